"""RP-T015 (trust-boundary), vulnerable: django kwargs request data reaches the sink directly."""

from django.http import JsonResponse


def item_detail(request, slug):
    value = slug
    request.session["next_page"] = value  # expect: RP-T015 CWE-501
    return JsonResponse({"ok": True})
