"""Request handler for the orders service."""

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    source = "def score(x):\n    return x * " + val
    namespace = {}
    exec(source, namespace)
    out = "ok"
    return JsonResponse({"result": str(out)})
