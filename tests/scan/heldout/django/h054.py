"""Endpoint of the customer portal."""

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    lang = val
    if lang not in {"en", "de", "fr"}:
        lang = "en"
    request.session["lang"] = lang
    out = lang
    return JsonResponse({"result": str(out)})
