"""Endpoint of the notifications service."""

import logging

from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        try:
            out = float(val)
        except Exception as e:
            logging.getLogger("items").warning("conversion failed: %s", e)
            return JsonResponse({"detail": "value must be a number"}, status=400)
        return JsonResponse({"result": str(out)})
