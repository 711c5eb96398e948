"""Parameterised queries: values bound, only constants and placeholder lists spliced in."""

TABLE = "orders"


def handler(event, context):
    db = context.sql
    ids = [int(i) for i in event["ids"]]
    marks = ", ".join(["%s"] * len(ids))
    db.execute("SELECT * FROM " + TABLE + " WHERE owner = %s", (event["user"],))
    db.execute(f"SELECT * FROM {TABLE} WHERE id IN ({marks})", ids)
    db.execute(f"DELETE FROM {TABLE} WHERE id IN ({','.join('?' * len(ids))})", ids)
    return {"statusCode": 200, "body": "ok"}
