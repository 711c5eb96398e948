"""Handler of the reporting API."""

from django.db import connection
from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM orders WHERE status = %s", [val])
        out = cursor.fetchall()
    return JsonResponse({"result": str(out)})
