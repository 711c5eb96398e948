"""One app for the SQS, SNS, EventBridge and Lambda tests, written the way AWS documents it.

``producer`` is allowed to publish to the app's queue, topic and bus and to
invoke ``worker``; ``stranger`` runs the same code with no permission at
all.  Its handler does one boto3 call named by the event (as a Lambda
function would, from ``os.environ``, with boto3 clients it makes itself) and
returns the answer, or the AWS error code botocore raised (clients are made on
first use: see PRODUCER).  Consumers write
every event they receive into the KV table ``seen``, where the tests read it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ramparts.aws.accounts import account_id
from tests.conftest import RunningNode, make_app

APP = "msg"
ACCOUNT = account_id(APP)
REGION = "us-east-1"

MANIFEST = """
app: msg
functions:
  producer:
    handler: producer.py:handler
    environment:
      QUEUE_URL: "{queue_url}"
      TOPIC_ARN: "arn:aws:sns:us-east-1:{account}:news"
    role:
      statements:
        - effect: allow
          actions: [topics:Publish]
          resources: ["topic:orders", "topic:orders.fifo", "topic:news", "topic:news-sns",
                      "topic:default", "topic:billing", "topic:nobody", "topic:nowhere"]
        - effect: allow
          actions: [functions:Invoke]
          resources: ["function:worker", "function:crasher", "function:nobody-here",
                      "function:victim-worker", "function:slow"]
  stranger:
    handler: producer.py:handler
    environment:
      QUEUE_URL: "{queue_url}"
      TOPIC_ARN: "arn:aws:sns:us-east-1:{account}:news"
  aws-named:
    handler: producer.py:handler
    role:
      statements:
        - effect: allow
          actions: [sqs:SendMessage, sns:Publish, events:PutEvents, lambda:InvokeFunction]
          resources: ["arn:aws:sqs:*:{account}:orders*", "arn:aws:sns:us-east-1:{account}:news",
                      "arn:aws:events:*:*:event-bus/default",
                      "arn:aws:lambda:us-east-1:{account}:function:worker"]
        - effect: deny
          actions: [sqs:SendMessage]
          resources: ["arn:aws:sqs:*:*:orders.fifo"]
  on-orders:
    handler: consumer.py:record
    role: {{statements: [{{effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}}]}}
    triggers:
      - topic: {{name: orders}}
      - topic: {{name: orders.fifo}}
  on-news:
    handler: consumer.py:record
    role: {{statements: [{{effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}}]}}
    triggers:
      - topic: {{name: news}}
  on-news-sns:
    handler: consumer.py:record
    role: {{statements: [{{effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}}]}}
    triggers:
      - topic: {{name: news-sns, shape: sns}}
  on-bus:
    handler: consumer.py:record
    role: {{statements: [{{effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}}]}}
    triggers:
      - topic: {{name: default}}
      - topic: {{name: billing}}
  on-placed:
    handler: consumer.py:record
    role: {{statements: [{{effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}}]}}
    triggers:
      - topic: {{name: billing, filters: [{{body: {{detail-type: [OrderPlaced]}}}}]}}
  worker:
    handler: consumer.py:work
    role: {{statements: [{{effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}}]}}
  crasher:
    handler: consumer.py:crash
  slow:
    handler: consumer.py:slow
    timeout: 1s
    concurrency: 1
"""

PRODUCER = """
import os

import boto3
from botocore.exceptions import ClientError

# Clients are made on first use, not at import: the version's credentials are
# served once it is live, and deploy imports the handler before that.
CLIENTS = {}


def handler(event, context):
    service = event["service"]
    if service not in CLIENTS:
        CLIENTS[service] = boto3.client(service)
    client = CLIENTS[service]
    kwargs = dict(event.get("args", {}))
    if event.get("queue_url_from_env"):
        kwargs["QueueUrl"] = os.environ["QUEUE_URL"]
    if event.get("topic_arn_from_env"):
        kwargs["TopicArn"] = os.environ["TOPIC_ARN"]
    try:
        answer = getattr(client, event["op"])(**kwargs)
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    answer.pop("ResponseMetadata", None)
    if "Payload" in answer:
        answer["Payload"] = answer["Payload"].read().decode()
    return answer
"""

CONSUMER = """
import json


def record(event, context):
    context.kv.put("seen", context.aws_request_id,
                   {"function": context.function_name, "event": json.dumps(event)})
    return "ok"


def work(event, context):
    context.kv.put("seen", context.aws_request_id,
                   {"function": context.function_name, "event": json.dumps(event)})
    return {"echo": event, "by": context.function_name}


def slow(event, context):
    import time
    time.sleep(0.8)
    return "done"


def crash(event, context):
    raise ValueError("crashed on purpose")
"""


def deploy_app(node: RunningNode, root: Path) -> None:
    manifest = MANIFEST.format(
        queue_url=f"http://127.0.0.1:{node.port}/{ACCOUNT}/orders",
        account=ACCOUNT,
    )
    node.deploy_ok(make_app(root, manifest, {"producer.py": PRODUCER, "consumer.py": CONSUMER}))


def call(node: RunningNode, function: str, event: dict[str, Any]) -> Any:
    """Invoke ``function`` (producer or stranger) with ``event``; its return value."""
    r = node.control.post(f"/v1/functions/{function}/invoke", json={"event": event})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "ok", out
    return out["result"]


def seen(node: RunningNode, function: str) -> list[dict[str, Any]]:
    items = node.control.get("/v1/kv/seen", params={"app": APP, "limit": 1000}).json()["items"]
    return [json.loads(i["item"]["event"]) for i in items if i["item"]["function"] == function]


def wait_seen(
    node: RunningNode, function: str, predicate: Any, timeout: float = 30
) -> dict[str, Any]:
    """The first event ``function`` received for which ``predicate`` holds (waits for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in seen(node, function):
            try:
                if predicate(event):
                    return event
            except (KeyError, IndexError, TypeError, ValueError):
                pass
        time.sleep(0.2)
    raise AssertionError(f"{function} received no matching event in {timeout}s")


def denials(node: RunningNode, action: str, resource_suffix: str) -> list[dict[str, Any]]:
    return [
        e
        for e in node.audit()
        if e.get("kind") == "resource.access"
        and e.get("decision") == "deny"
        and e.get("action") == action
        and str(e.get("resource", "")).endswith(resource_suffix)
    ]


VICTIM = "victim"
VICTIM_MANIFEST = """
app: victim
functions:
  victim-inbox:
    handler: v.py:handler
    triggers:
      - topic: {name: orders}
      - topic: {name: news}
      - topic: {name: default}
  victim-worker:
    handler: v.py:handler
"""


def deploy_victim(node: RunningNode, root: Path) -> None:
    """Another app with the same queue, topic and bus names as ``msg`` (function names are
    unique on a node, so its function is ``victim-worker``)."""
    node.deploy_ok(make_app(root, VICTIM_MANIFEST, {"v.py": "def handler(e, c):\n    return 1\n"}))


def victim_untouched(node: RunningNode) -> bool:
    return not node.invocations("victim-inbox") and not node.invocations("victim-worker")


def deploy_both(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    """The module fixture of every messaging test file: the app and its victim, deployed."""
    deploy_app(node, tmp_path_factory.mktemp("msg") / "app")
    deploy_victim(node, tmp_path_factory.mktemp("victim") / "app")
    return node
