"""RP-T011 (redirect), vulnerable: django request data reaches the sink through a helper in helpers.py."""

from helpers import process


def item_view(request):
    result = process(request.POST["name"])
    return result
