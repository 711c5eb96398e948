"""RP-T013: a Lambda receives XML invoices and hands them to invoices.parse_invoice."""

import json

from invoices import parse_invoice


def handler(event, context):
    invoice = parse_invoice(event["body"])
    return {"statusCode": 200, "body": json.dumps(invoice)}
