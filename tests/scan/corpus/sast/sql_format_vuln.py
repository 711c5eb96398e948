"""Values formatted into SQL (bandit B608), and an identifier spliced beside bound values."""


def handler(event, context):
    db = context.sql
    name = event["name"]
    db.execute("SELECT * FROM users WHERE name = '%s'" % name)
    db.execute(f"SELECT * FROM {event['table']} WHERE id = ?", (event["id"],))
    return {"statusCode": 200, "body": "ok"}
