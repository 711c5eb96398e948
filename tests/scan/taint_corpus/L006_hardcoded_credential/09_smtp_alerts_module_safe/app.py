"""RP-L006: a Lambda forwards alerts by e-mail through mailer.send_alert."""

import json

from mailer import send_alert


def handler(event, context):
    alert = json.loads(event["body"])
    send_alert("ops@example.com", alert["title"])
    return {"statusCode": 202, "body": ""}
