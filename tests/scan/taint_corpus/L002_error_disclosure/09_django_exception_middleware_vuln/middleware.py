"""RP-L002: Django middleware that turns any unhandled exception into a 500 response."""

import logging
import traceback

from django.http import HttpResponse

log = logging.getLogger(__name__)


class ErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        log.error("unhandled error on %s", request.path, exc_info=exception)
        return HttpResponse(traceback.format_exc(), status=500, content_type="text/plain")  # expect: RP-L002 CWE-209
