"""Playbook files: what validates, what is refused (naming the file and the field), how an
alert's evidence fills in the targets, and what a plan holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.respond.errors import PlaybookError
from ramparts.respond.playbooks import (
    AlertContext,
    context_of,
    parse_playbooks,
    plan,
    warnings,
)

GOOD = """
playbooks:
  - name: contain
    match: {rules: [failed-auth-burst], severity: high, app: shop}
    stop_on_failure: true
    actions:
      - block_ip: {for: 2h}
      - revoke_key: {requires_approval: true}
      - lower_rate: {function: web, rate: 10/minute}
      - lower_concurrency: {concurrency: 2}
      - rotate_secret: {secret: api-token}
      - notify: {email: oncall@example.com}
"""


def test_a_valid_file() -> None:
    (pb,) = parse_playbooks(GOOD, file="/x/contain.yaml")
    assert pb.name == "contain" and pb.file == "contain.yaml" and pb.stop_on_failure
    assert [a.kind for a in pb.actions] == [
        "block_ip",
        "revoke_key",
        "lower_rate",
        "lower_concurrency",
        "rotate_secret",
        "notify",
    ]
    assert pb.actions[0].params == {"for": 7200.0}
    assert pb.actions[1].requires_approval is True
    assert pb.actions[5].params == {"email": ["oncall@example.com"]}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("playbooks: nope", "playbooks"),
        ("other: 1", "other"),
        ("playbooks:\n  - actions: [{notify: {}}]", "playbooks[0].name"),
        ("playbooks:\n  - name: Bad Name\n    actions: [{notify: {}}]", "playbooks[0].name"),
        ("playbooks:\n  - name: a\n    actions: []", "playbooks[0].actions"),
        (
            "playbooks:\n  - name: a\n    actions: [{shutdown: {}}]",
            "playbooks[0].actions[0].shutdown",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{block_ip: {for: soon}}]",
            "playbooks[0].actions[0].block_ip.for",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{block_ip: {address: 10.0.0.1/8}}]",
            "playbooks[0].actions[0].block_ip.address",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{notify: {requires_approval: true}}]",
            "playbooks[0].actions[0].notify.requires_approval",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{rotate_secret: {}}]",
            "playbooks[0].actions[0].rotate_secret.secret",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{lower_rate: {rate: fast}}]",
            "playbooks[0].actions[0].lower_rate.rate",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{lower_concurrency: {concurrency: 0}}]",
            "playbooks[0].actions[0].lower_concurrency.concurrency",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{notify: {email: [not-an-address]}}]",
            "playbooks[0].actions[0].notify.email",
        ),
        (
            "playbooks:\n  - name: a\n    match: {severity: dire}\n    actions: [{notify: {}}]",
            "playbooks[0].match.severity",
        ),
        (
            "playbooks:\n  - name: a\n    match: {host: x}\n    actions: [{notify: {}}]",
            "playbooks[0].match.host",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{notify: {}}]\n  - name: a\n"
            "    actions: [{notify: {}}]",
            "playbooks[1].name",
        ),
        ("playbooks: [\n", "line 2"),
        (
            "playbooks:\n  - name: a\n    actions: [{revoke_key: {key: '*'}}]",
            "playbooks[0].actions[0].revoke_key.key",
        ),
        (
            "playbooks:\n  - name: a\n    actions: [{revoke_client: {client: 'ci-?'}}]",
            "playbooks[0].actions[0].revoke_client.client",
        ),
        (  # a second requires_approval must not silently win
            "playbooks:\n  - name: a\n    actions:\n      - quarantine:\n"
            "          requires_approval: true\n          requires_approval: false\n",
            "line 6",
        ),
    ],
)
def test_bad_files_name_the_file_and_field(text: str, field: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbooks(text, file="bad.yaml")
    assert caught.value.file == "bad.yaml"
    assert caught.value.field == field, caught.value.message
    assert caught.value.message.startswith("invalid playbook bad.yaml: ")


def test_a_duplicate_key_is_named() -> None:
    text = "playbooks:\n  - name: a\n    name: b\n    actions: [{notify: {}}]\n"
    with pytest.raises(PlaybookError) as caught:
        parse_playbooks(text, file="dup.yaml")
    assert "'name' appears twice" in caught.value.message


EVIDENCE_AIMED = """
playbooks:
  - name: aimed
    match: {}
    actions:
      - quarantine: {}
      - rollback: {function: web}
      - revoke_key: {target_from_evidence: true}
      - revoke_client: {requires_approval: true}
      - rotate_secret: {secret: token}
      - block_ip: {}
      - lower_rate: {rate: 1/minute}
      - lower_concurrency: {concurrency: 1, target_from_evidence: true}
"""


def test_destructive_steps_aimed_by_evidence_wait_for_approval() -> None:
    (pb,) = parse_playbooks(EVIDENCE_AIMED, file="aimed.yaml")
    ctx = AlertContext(function="victim", app="shop", source_ip="203.0.113.9", key="k1", client="c")
    steps = plan(pb, {"rule": "r", "severity": "high"}, ctx)
    gated = {s["action"]: s["requires_approval"] for s in steps}
    assert gated == {
        "quarantine": True,  # function from evidence: waits
        "rollback": False,  # named explicitly
        "revoke_key": False,  # opted in
        "revoke_client": True,  # asked for approval itself
        "rotate_secret": True,  # app from evidence
        "block_ip": False,  # the source address is the alert's own subject
        "lower_rate": True,  # function from evidence: slowing it is a DoS the attacker aims
        "lower_concurrency": False,  # opted in
    }
    assert steps[6]["params"] == {"rate": "1/minute", "function": "victim"}
    assert steps[0]["approval_reason"] == "target_from_evidence"
    assert "approval_reason" not in steps[3]
    assert all("target_from_evidence" not in s["params"] for s in steps)
    found = warnings([pb])
    assert any("match is empty" in w for w in found)
    assert [w.split(":")[1].strip() for w in found if "evidence" in w] == [
        "actions[0].quarantine takes its function from the alert's evidence, which the attacker "
        "can shape",
        "actions[4].rotate_secret takes its app from the alert's evidence, which the attacker "
        "can shape",
        "actions[6].lower_rate takes its function from the alert's evidence, which the attacker "
        "can shape",
    ]
    # an explicit approval, a named target, or a non-destructive step: nothing to warn
    (good,) = parse_playbooks(GOOD, file="good.yaml")
    assert [w.split(":")[1].strip() for w in warnings([good])] == [
        "actions[3].lower_concurrency takes its function from the alert's evidence, which the "
        "attacker can shape",
        "actions[4].rotate_secret takes its app from the alert's evidence, which the attacker "
        "can shape",
    ]


def test_matching_and_planned_targets_come_from_the_evidence() -> None:
    (pb,) = parse_playbooks(GOOD, file="contain.yaml")
    records = [
        {
            "kind": "gateway.auth",
            "principal": "key:abc123abc123",
            "resource": "route:GET /web",
            "detail": '{"source_ip": "203.0.113.9"}',
        },
        {
            "kind": "resource.access",
            "principal": "function:shop/web",
            "resource": "kv:x",
            "detail": {"source_ip": "203.0.113.9"},
        },
    ]
    ctx = context_of(records)
    assert (ctx.source_ip, ctx.key, ctx.function, ctx.app) == (
        "203.0.113.9",
        "abc123abc123",
        "web",
        "shop",
    )
    alert = {"rule": "failed-auth-burst", "severity": "high"}
    assert pb.matches(alert, ctx)
    assert not pb.matches({**alert, "severity": "medium"}, ctx)
    assert not pb.matches({**alert, "rule": "other"}, ctx)
    assert not pb.matches(alert, AlertContext(app="other"))
    steps = plan(pb, alert, ctx)
    assert steps[0]["params"]["address"] == "203.0.113.9"
    assert steps[1]["params"]["key"] == "abc123abc123" and steps[1]["requires_approval"]
    assert steps[3]["params"]["function"] == "web"
    assert steps[4]["params"]["app"] == "shop"
    missing = plan(pb, alert, AlertContext())
    assert missing[0]["error"].startswith("the alert names no source address")


@pytest.mark.parametrize(
    "url",
    ["http://mail.example", "smtp://", "smtp://user:pw@mail.example", "smtp://mail:99999"],
)
def test_a_bad_smtp_url_refuses_the_settings(url: str, tmp_path: Path) -> None:
    from ramparts.config import Settings
    from ramparts.errors import ConfigError

    with pytest.raises(ConfigError, match="RAMPARTS_SMTP_URL"):
        Settings(tmp_path, smtp_url=url)
    assert Settings(tmp_path, smtp_url="smtp+starttls://mail.example:587").smtp_url.endswith(":587")
    with pytest.raises(ConfigError, match="RAMPARTS_SMTP_FROM"):
        Settings(tmp_path, smtp_url="smtp://mail.example", smtp_from="nobody")
