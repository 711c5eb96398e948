"""order-created subscriber: book a shipment and print a label (SQS-style records)."""

import json


def handler(event, context):
    for record in event["Records"]:
        order = json.loads(record["body"])
        context.kv.put("shipments", order["id"], {"order": order["id"], "carrier": "post"})
        label = f"SHIP ORDER {order['id']}\nTOTAL {order['total']}\n".encode()
        context.objects.put("labels", f"{order['id']}.txt", label, content_type="text/plain")
        print(f"shipment booked for {order['id']} (message {record['messageId']})")
    return {"batchItemFailures": []}
