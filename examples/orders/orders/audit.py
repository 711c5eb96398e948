"""orders table stream: keep a history of every change (DynamoDB-stream records)."""


def handler(event, context):
    for record in event["Records"]:
        keys = record["dynamodb"]["Keys"]
        key = keys["key"]["S"]
        seq = record["dynamodb"]["SequenceNumber"]
        context.kv.put(
            "order-history", f"{key}#{seq}", {"order": key, "change": record["eventName"]}
        )
        print(f"{record['eventName']} {key}")
