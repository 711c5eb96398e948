"""View used by the admin back office."""

from .models import Article

from django.db.models import Q
from django.http import JsonResponse
from shared import Lookup


def detail(request, slug):
    val = slug
    lookup = Lookup(val)
    out = list(Article.objects.filter(Q(slug=lookup.term)))
    return JsonResponse({"result": str(out)})
