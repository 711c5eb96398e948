"""Function behind the public API gateway."""

from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        try:
            out = float(val)
        except Exception as e:
            return JsonResponse({"detail": f"conversion failed: {e}"}, status=400)
        return JsonResponse({"result": str(out)})
