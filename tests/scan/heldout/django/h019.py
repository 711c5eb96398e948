"""Request handler for the orders service."""

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    request.session["user_id"] = val
    out = "stored"
    return JsonResponse({"result": str(out)})
