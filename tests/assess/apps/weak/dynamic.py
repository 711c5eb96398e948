def handler(event, context):
    return context.kv.get(event["table"], "k")
