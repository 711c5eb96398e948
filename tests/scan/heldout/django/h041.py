"""Handler of the catalogue service."""

from django.http import JsonResponse
from lxml import etree


TREE = etree.parse("/srv/data/users.xml")


def search(request):
    val = request.GET.get("q", "")
    find = etree.XPath("//product[sku='%s']/price" % val)
    out = find(TREE)
    return JsonResponse({"result": str(out)})
