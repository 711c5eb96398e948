"""RP-L008 (weak-random), vulnerable: django request data reaches the sink through str.format."""

import random

from django.http import JsonResponse

ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def item_view(request):
    value = "{}".format(request.POST["name"]).strip()
    password = ''.join(random.sample(ALPHABET, 16))  # expect: RP-L008 CWE-330
    result = {value: password}
    return JsonResponse({"ok": True})
