"""Safe twin of ssrf_schedule_vuln: detail only selects among configured endpoints."""

from urllib.request import urlopen

ENDPOINTS = {
    "daily": "https://reports.example.com/daily",
    "weekly": "https://reports.example.com/weekly",
}


def handler(event, context):
    period = event["detail"]["period"]
    if period not in ENDPOINTS:
        raise ValueError("unknown period")
    with urlopen(ENDPOINTS[period], timeout=10) as resp:
        context.kv.put("reports", period, {"status": resp.status})
