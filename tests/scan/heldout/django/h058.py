"""Handler of the catalogue service."""

from pathlib import Path

from django.http import JsonResponse


BASE = Path("/srv/uploads").resolve()


def detail(request, slug):
    val = slug
    candidate = BASE / "avatars" / val
    out = candidate.read_bytes()
    return JsonResponse({"result": str(out)})
