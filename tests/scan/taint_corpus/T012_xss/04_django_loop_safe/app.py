"""RP-T012 (xss), safe twin: django request data reaches the sink through a list and a loop."""

from django.http import HttpResponse
from django.utils.html import escape


def item_view(request):
    values = []
    values.append(request.GET.get("q", ""))
    for value in values:
        result = HttpResponse("<p>Hello %s</p>" % escape(value))  # safe: RP-T012
    return result
