"""Endpoint of the customer portal."""

from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        class Cart:
            def __init__(self, req) -> None:
                self.req = req
            def remember(self, value: str) -> None:
                self.req.session["discount_code_seen"] = True
        Cart(request).remember(val)
        out = "ok"
        return JsonResponse({"result": str(out)})
