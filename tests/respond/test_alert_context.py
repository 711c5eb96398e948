"""An alert's context names the function from the broker's ``function:NAME@VERSION`` principal.

Resource refusals (the evidence of ``policy-denial-burst``) carry that principal; a
playbook's ``quarantine`` with no ``function:`` must find the function there
(the secret-exfiltration drill depends on it).
"""

from __future__ import annotations

from ramparts.respond.playbooks import context_of, parse_playbooks, plan


def test_the_broker_principal_names_the_function() -> None:
    records = [
        {"kind": "resource.access", "principal": "function:report@0123456789ab", "resource": "s"}
        for _ in range(3)
    ]
    ctx = context_of(records)
    assert ctx.function == "report" and ctx.app is None
    (pb,) = parse_playbooks(
        "playbooks:\n  - name: q\n    actions:\n      - quarantine: {}\n", file="q.yaml"
    )
    (step,) = plan(pb, {"rule": "policy-denial-burst", "severity": "medium"}, ctx)
    assert step["params"]["function"] == "report" and not step.get("error")


def test_an_app_qualified_principal_still_wins_its_own_form() -> None:
    ctx = context_of([{"principal": "function:shop/web"}])
    assert (ctx.app, ctx.function) == ("shop", "web")
