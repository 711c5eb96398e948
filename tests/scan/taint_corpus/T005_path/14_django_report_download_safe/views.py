"""RP-T005 (path), safe twin: the resolved path must stay inside the reports folder."""

from pathlib import Path

from django.http import FileResponse, HttpResponseBadRequest

REPORTS = Path("/srv/reports")


def download_report(request):
    name = request.GET.get("report", "")
    if not name:
        return HttpResponseBadRequest("report is required")
    path = (REPORTS / name).resolve()
    if not path.is_relative_to(REPORTS):
        return HttpResponseBadRequest("no such report")
    return FileResponse(open(path, "rb"), as_attachment=True)  # safe: RP-T005
