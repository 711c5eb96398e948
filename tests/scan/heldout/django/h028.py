"""Endpoint of the notifications service."""

from django.http import JsonResponse
from lxml import etree


def update(request):
    val = request.POST["name"]
    parser = etree.XMLParser(resolve_entities=True)
    out = etree.fromstring(val.encode(), parser).tag
    return JsonResponse({"result": str(out)})
