"""RP-T005 (path), vulnerable: a Django view serves a report named in the query string."""

from pathlib import Path

from django.http import FileResponse, HttpResponseBadRequest

REPORTS = Path("/srv/reports")


def download_report(request):
    name = request.GET.get("report", "")
    if not name:
        return HttpResponseBadRequest("report is required")
    path = REPORTS / name
    return FileResponse(open(path, "rb"), as_attachment=True)  # expect: RP-T005 CWE-22
