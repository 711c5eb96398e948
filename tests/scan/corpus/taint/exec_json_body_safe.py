"""Safe twin of exec_json_body_vuln: the action picks a function from a fixed mapping."""

import json


def do_ping() -> str:
    return "pong"


def do_version() -> str:
    return "1.0"


ACTIONS = {"ping": do_ping, "version": do_version}


def handler(event, context):
    payload = json.loads(event["body"])
    action = ACTIONS.get(payload["action"])
    if action is None:
        return {"statusCode": 400, "body": "unknown action"}
    return {"statusCode": 200, "body": action()}
