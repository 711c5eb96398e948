"""RP-T004 (deserialize), vulnerable: django kwargs request data reaches the sink through str.format."""

import yaml
from django.http import JsonResponse


def item_detail(request, slug):
    value = "{}".format(slug).strip()
    result = yaml.unsafe_load(value)  # expect: RP-T004 CWE-502
    return JsonResponse({"ok": True})
