"""RP-L009 (cookie-flags), safe twin: django kwargs request data reaches the sink through str.format."""

from django.http import JsonResponse


def item_detail(request, slug):
    value = "{}".format(slug).strip()
    result = JsonResponse({"ok": True})
    result.set_cookie("auth_token", value, max_age=3600, secure=True, httponly=True)  # safe: RP-L009
    return result
