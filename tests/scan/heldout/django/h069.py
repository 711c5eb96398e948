"""Endpoint of the notifications service."""

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    response = JsonResponse({"result": val})
    response["Access-Control-Allow-Origin"] = "https://app.example.com"
    response["Access-Control-Allow-Credentials"] = "true"
    return response
