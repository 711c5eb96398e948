"""RP-T015 (trust-boundary), safe twin: django kwargs request data reaches the sink directly."""

from django.http import JsonResponse

NEXT_PAGES = {"/", "/orders", "/account"}


def item_detail(request, slug):
    value = slug
    if value not in NEXT_PAGES:
        raise ValueError("unknown page")
    request.session["next_page"] = value  # safe: RP-T015
    return JsonResponse({"ok": True})
