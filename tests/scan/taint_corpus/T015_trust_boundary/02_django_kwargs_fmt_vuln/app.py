"""RP-T015 (trust-boundary), vulnerable: django kwargs request data reaches the sink through str.format."""

from django.http import JsonResponse


def item_detail(request, slug):
    value = "{}".format(slug).strip()
    request.session["next_page"] = value  # expect: RP-T015 CWE-501
    return JsonResponse({"ok": True})
