"""RP-L009 (cookie-flags), vulnerable: django kwargs request data reaches the sink through str.format."""

from django.http import JsonResponse


def item_detail(request, slug):
    value = "{}".format(slug).strip()
    result = JsonResponse({"ok": True})
    result.set_cookie("auth_token", value, max_age=3600)  # expect: RP-L009 CWE-614
    return result
