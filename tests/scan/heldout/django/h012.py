"""Endpoint of the billing service."""

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    source = "def score(x):\n    return x * " + val
    namespace = {}
    exec("def score(x):\n    return x * factor", namespace, {"factor": int(val)})
    out = "ok"
    return JsonResponse({"result": str(out)})
