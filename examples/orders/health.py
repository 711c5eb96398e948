"""GET /health: a public route; returns a plain dict (the HTTP API v2 shortcut)."""


def handler(event, context):
    return {"status": "ok", "version": context.function_version[:12]}
