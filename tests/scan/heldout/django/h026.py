"""Webhook and integration endpoint."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        return redirect(val)
