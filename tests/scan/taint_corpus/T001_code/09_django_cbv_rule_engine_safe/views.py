"""RP-T001: a Django class-based view hands pricing rules to an engine in another module."""

import json

from django.http import JsonResponse
from django.views import View
from pricing.engine import RuleEngine


class PriceView(View):
    engine = RuleEngine()

    def post(self, request):
        payload = json.loads(request.body)
        conditions = [rule["when"] for rule in payload.get("rules", [])]
        context = {"qty": int(payload["qty"]), "total": float(payload["total"])}
        matched = [c for c in conditions if self.engine.evaluate(c, context)]
        return JsonResponse({"matched": matched})
