"""Small apps the gate, CLI and deploy tests share: one vulnerable, one clean."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_app

# event data into the shell: bandit (B605) and the taint rule (RP-T002) both block it
VULN_HANDLER = """
import os


def handler(event, context):
    name = event["queryStringParameters"]["name"]
    os.system("echo hello " + name)
    return {"statusCode": 200, "body": "ok"}
"""
VULN_LINE = 7  # the os.system line, after dedent

CLEAN_HANDLER = """
import json


def handler(event, context):
    body = json.loads(event.get("body") or "{}")
    context.kv.put("notes", str(body.get("id", "n-1")), {"text": str(body.get("text", ""))})
    return {"statusCode": 200, "body": "ok"}
"""


def manifest(app: str, path: str) -> str:
    return f"""
app: {app}
functions:
  {app}-fn:
    handler: h.py:handler
    timeout: 5s
    role:
      statements:
        - effect: allow
          actions: [kv:PutItem]
          resources: ["kv:notes/*"]
    triggers:
      - http: {{method: POST, path: {path}, auth: api_key}}
"""


def vulnerable_app(root: Path, app: str = "vuln", path: str = "/vuln") -> Path:
    return make_app(root, manifest(app, path), {"h.py": VULN_HANDLER})


def clean_app(root: Path, app: str = "clean", path: str = "/clean") -> Path:
    return make_app(root, manifest(app, path), {"h.py": CLEAN_HANDLER})
