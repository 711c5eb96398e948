"""Request handler for the orders service."""

from pathlib import Path

from django.http import Http404
from django.http import JsonResponse


BASE = Path("/srv/uploads").resolve()


def detail(request, slug):
    val = slug
    candidate = (BASE / "avatars" / val).resolve()
    if not candidate.is_relative_to(BASE / "avatars"):
        raise Http404("no such avatar")
    out = candidate.read_bytes()
    return JsonResponse({"result": str(out)})
