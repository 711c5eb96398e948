"""RP-T004 (deserialize), safe twin: django kwargs request data reaches the sink through str.format."""

import yaml
from django.http import JsonResponse


def item_detail(request, slug):
    value = "{}".format(slug).strip()
    result = yaml.safe_load(value)  # safe: RP-T004
    return JsonResponse({"ok": True})
