"""Handler of the catalogue service."""

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    request.session["user_id"] = request.user.pk
    out = "stored"
    return JsonResponse({"result": str(out)})
