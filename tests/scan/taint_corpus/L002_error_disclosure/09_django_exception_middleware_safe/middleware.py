"""RP-L002: Django middleware that turns any unhandled exception into a 500 response."""

import logging

from django.http import JsonResponse

log = logging.getLogger(__name__)


class ErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        log.error("unhandled error on %s", request.path, exc_info=exception)
        return JsonResponse({"error": "internal error"}, status=500)  # safe: RP-L002
