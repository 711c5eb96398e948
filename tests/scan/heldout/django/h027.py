"""Handler of the reporting API."""

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    lang = val
    request.session["lang"] = lang
    out = lang
    return JsonResponse({"result": str(out)})
