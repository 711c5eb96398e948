"""RP-T003: a Django REST framework view filters orders with a raw cursor."""

from django.db import connection
from rest_framework.response import Response
from rest_framework.views import APIView


class OrderList(APIView):
    def get(self, request):
        status = request.query_params.get("status", "open")
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, total FROM shop_order WHERE status = %s", [status])  # safe: RP-T003
            rows = cursor.fetchall()
        return Response({"orders": rows})
