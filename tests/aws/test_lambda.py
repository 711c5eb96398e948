"""Lambda Invoke on a real node: sync, Event (queued), DryRun, errors and denials."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ramparts.aws.accounts import account_id
from tests.aws.conftest import boto_client
from tests.aws.messaging_app import (
    ACCOUNT,
    APP,
    VICTIM,
    call,
    denials,
    deploy_both,
    victim_untouched,
    wait_seen,
)
from tests.conftest import RunningNode


@pytest.fixture(scope="module")
def node(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    return deploy_both(aws_node, tmp_path_factory)


def _lambda(node: RunningNode, function: str = "producer") -> Any:
    return boto_client(node, "lambda", function, app=APP)


def test_sync_invoke_in_a_handler_returns_the_payload(node: RunningNode) -> None:
    answer = call(
        node,
        "producer",
        {
            "service": "lambda",
            "op": "invoke",
            "args": {"FunctionName": "worker", "Payload": '{"n": 1}'},
        },
    )
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"]) == {"echo": {"n": 1}, "by": "worker"}


def test_event_invoke_is_queued_and_runs(node: RunningNode) -> None:
    answer = call(
        node,
        "producer",
        {
            "service": "lambda",
            "op": "invoke",
            "args": {
                "FunctionName": "worker",
                "InvocationType": "Event",
                "Payload": '{"async": 7}',
            },
        },
    )
    assert answer["StatusCode"] == 202
    wait_seen(node, "worker", lambda e: e == {"async": 7})


def test_function_names_as_arn_and_latest(node: RunningNode) -> None:
    lam = _lambda(node)
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:worker"
    for name, qualifier in ((arn, None), ("worker:$LATEST", None), ("worker", "$LATEST")):
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        out = lam.invoke(FunctionName=name, Payload=b'{"q": 1}', **kwargs)
        assert out["StatusCode"] == 200
        assert json.loads(out["Payload"].read())["echo"] == {"q": 1}


def test_a_function_that_raises_is_an_unhandled_function_error(node: RunningNode) -> None:
    out = _lambda(node).invoke(FunctionName="crasher", Payload=b"{}")
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert body["errorType"] == "ValueError"
    assert "crashed on purpose" in body["errorMessage"]


def test_a_failing_event_invocation_is_retried_twice(node: RunningNode) -> None:
    before = len(node.invocations("crasher"))
    out = _lambda(node).invoke(FunctionName="crasher", InvocationType="Event", Payload=b"{}")
    assert out["StatusCode"] == 202
    rows = node.wait_invocations("crasher", before + 3, timeout=60)
    assert all(r["status"] != "ok" for r in rows)


def test_dry_run_checks_permission_and_existence(node: RunningNode) -> None:
    lam = _lambda(node)
    assert lam.invoke(FunctionName="worker", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nobody-here", InvocationType="DryRun")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("nobody-here", "ResourceNotFoundException"),
        ("arn:aws:lambda:us-east-1:123456789012:function:worker", "AccessDeniedException"),
        ("worker:live", "ResourceNotFoundException"),
    ],
)
def test_bad_function_names(node: RunningNode, name: str, code: str) -> None:
    with pytest.raises(ClientError) as err:
        _lambda(node).invoke(FunctionName=name, Payload=b"{}")
    assert err.value.response["Error"]["Code"] == code


def test_a_payload_that_is_not_json_is_refused(node: RunningNode) -> None:
    with pytest.raises(ClientError) as err:
        _lambda(node).invoke(FunctionName="worker", Payload=b"{not json")
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"


@pytest.mark.parametrize("kind", ["RequestResponse", "Event"])
def test_a_payload_nested_deeper_than_context_invoke_allows_is_refused(
    node: RunningNode, kind: str
) -> None:
    deep = b"[" * 65 + b"]" * 65  # context.invoke refuses more than 64 levels too
    with pytest.raises(ClientError) as err:
        _lambda(node).invoke(FunctionName="worker", InvocationType=kind, Payload=deep)
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"
    ok = b"[" * 64 + b"]" * 64
    assert _lambda(node).invoke(FunctionName="worker", Payload=ok)["StatusCode"] == 200


def test_unknown_function_matches_the_reference(node: RunningNode, moto_server: str) -> None:
    import boto3

    ref = boto3.client(
        "lambda",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with pytest.raises(ClientError) as theirs:
        ref.invoke(FunctionName="nobody-here", Payload=b"{}")
    with pytest.raises(ClientError) as ours:
        _lambda(node).invoke(FunctionName="nobody-here", Payload=b"{}")
    assert ours.value.response["Error"]["Code"] == theirs.value.response["Error"]["Code"]
    assert ours.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize("kind", ["RequestResponse", "Event", "DryRun"])
def test_a_role_without_invoke_is_denied_and_audited(node: RunningNode, kind: str) -> None:
    answer = call(
        node,
        "stranger",
        {
            "service": "lambda",
            "op": "invoke",
            "args": {"FunctionName": "worker", "InvocationType": kind},
        },
    )
    assert answer["error"] == "AccessDeniedException"
    assert denials(node, "functions:Invoke", "function/worker")


def test_other_lambda_operations_are_named_as_unsupported(node: RunningNode) -> None:
    with pytest.raises(ClientError) as err:
        _lambda(node).list_functions()
    assert err.value.response["Error"]["Code"] == "UnsupportedOperation"


@pytest.mark.parametrize("kind", ["RequestResponse", "Event", "DryRun"])
def test_another_apps_function_is_never_invoked(node: RunningNode, kind: str) -> None:
    lam = _lambda(node)
    victim = account_id(VICTIM)
    for name in (
        f"arn:aws:lambda:us-east-1:{victim}:function:victim-worker",
        f"{victim}:function:victim-worker",
    ):
        with pytest.raises(ClientError) as err:
            lam.invoke(FunctionName=name, InvocationType=kind, Payload=b"{}")
        assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    # by its bare name, even allowed by the role, it is not a function of this app
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="victim-worker", InvocationType=kind, Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert victim_untouched(node)


def test_a_function_without_a_free_worker_is_throttled(node: RunningNode) -> None:
    """``slow`` has one worker and runs 0.8 s; a call waits at most RAMPARTS_THROTTLE_WAIT
    (0.1 s) for a worker: of four simultaneous calls at most two can get one (in practice
    one), the others are throttled."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.config import Config

    # legacy retry mode's max_attempts=1 still retries once: ask for one attempt in total
    lam = boto_client(
        node, "lambda", "producer", app=APP, config=Config(retries={"total_max_attempts": 1})
    )
    lam.invoke(FunctionName="slow", Payload=b"{}")  # warm: the worker exists

    def one(_: int) -> str:
        try:
            return str(lam.invoke(FunctionName="slow", Payload=b"{}")["StatusCode"])
        except ClientError as exc:
            status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
            return f"{exc.response['Error']['Code']}:{status}"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(one, range(4)))
    assert outcomes.count("TooManyRequestsException:429") >= 2, outcomes
    assert set(outcomes) <= {"200", "TooManyRequestsException:429"}, outcomes


def test_a_role_in_aws_names_decides_the_same_way(node: RunningNode) -> None:
    lam = _lambda(node, "aws-named")
    out = lam.invoke(FunctionName="worker", Payload=b'{"named": true}')
    assert json.loads(out["Payload"].read())["echo"] == {"named": True}
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="crasher", Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    # the other app's function is not this grant's
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="victim-worker", Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert victim_untouched(node)


def test_a_function_over_its_invocation_budget_is_throttled(node: RunningNode) -> None:
    """An exhausted budget is Lambda's throttle (429 TooManyRequestsException) with the
    seconds to the window's reset; the handler does not run.  (docs/budgets.md)"""
    from botocore.config import Config

    lam = boto_client(
        node, "lambda", "producer", app=APP, config=Config(retries={"total_max_attempts": 1})
    )
    lam.invoke(FunctionName="worker", Payload=b"{}")  # at least one call this hour
    r = node.control.put("/v1/budgets/functions/worker", json={"invocations_per_hour": 1})
    assert r.status_code == 200, r.text
    try:
        before = len([i for i in node.invocations("worker") if i["status"] == "ok"])
        with pytest.raises(ClientError) as err:
            lam.invoke(FunctionName="worker", Payload=b'{"over": true}')
        response = err.value.response
        assert response["Error"]["Code"] == "TooManyRequestsException"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Reason"] == "FunctionInvocationBudgetExhausted"
        assert 1 <= int(response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) <= 3600
        assert len([i for i in node.invocations("worker") if i["status"] == "ok"]) == before
    finally:
        r = node.control.put("/v1/budgets/functions/worker", json={"clear": True})
        assert r.status_code == 200, r.text


def test_a_quarantined_function_is_a_clear_conflict_not_a_throttle(node: RunningNode) -> None:
    """issue 17 F7: a quarantine is not "Rate Exceeded", and the SDK does not retry it."""
    assert node.control.post("/v1/quarantines", json={"function": "worker"}).status_code == 200
    try:
        with pytest.raises(ClientError) as err:
            _lambda(node).invoke(FunctionName="worker", Payload=b"{}")
    finally:
        assert node.control.delete("/v1/quarantines/worker").status_code == 200
    response = err.value.response
    assert response["Error"]["Code"] == "ResourceConflictException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "quarantined" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
