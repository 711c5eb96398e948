"""Vulnerable: the detail of a scheduled event chooses the URL urlopen fetches (RP-T006).

Scheduled events look trusted, but anyone who may publish to the bus or edit
the rule controls ``detail``.
"""

from urllib.request import urlopen


def handler(event, context):
    endpoint = event["detail"]["endpoint"]
    with urlopen(endpoint, timeout=10) as resp:  # finding: RP-T006
        context.kv.put("reports", "last", {"status": resp.status})
