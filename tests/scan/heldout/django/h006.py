"""Request handler for the orders service."""

from django.http import JsonResponse
from lxml import etree


TREE = etree.parse("/srv/data/users.xml")


def search(request):
    val = request.GET.get("q", "")
    find = etree.XPath("//product[sku=$sku]/price")
    out = find(TREE, sku=val)
    return JsonResponse({"result": str(out)})
