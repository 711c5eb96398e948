"""Handler of the reporting API."""

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    response = JsonResponse({"result": val})
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Credentials"] = "true"
    return response
