"""RP-T012 (xss), vulnerable: django request data reaches the sink through a list and a loop."""

from django.http import HttpResponse
from django.utils.safestring import mark_safe


def item_view(request):
    values = []
    values.append(request.GET.get("q", ""))
    for value in values:
        result = HttpResponse(mark_safe("<p>Hello %s</p>" % value))  # expect: RP-T012 CWE-79
    return result
