"""RP-L008 (weak-random), safe twin: django request data reaches the sink through str.format."""

import random

from django.http import JsonResponse

FEATURED = ["lamp", "desk", "chair", "rug", "shelf"]


def item_view(request):
    value = "{}".format(request.POST["name"]).strip()
    sample = random.sample(FEATURED, 3)  # safe: RP-L008
    result = {value: sample}
    return JsonResponse({"ok": True})
