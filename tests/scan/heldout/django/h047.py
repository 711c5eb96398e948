"""Handler of the reporting API."""

from .models import Article

from django.http import JsonResponse
from shared import Lookup


def detail(request, slug):
    val = slug
    lookup = Lookup(val)
    out = list(Article.objects.raw("SELECT * FROM blog_article WHERE slug = '" + lookup.term + "'"))
    return JsonResponse({"result": str(out)})
