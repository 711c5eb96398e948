"""The variables Lambda sets in every execution environment, set the same way here.

Code written for Lambda reads them (``AWS_REGION`` to build an SDK client,
``AWS_LAMBDA_FUNCTION_NAME`` in log lines, ``LAMBDA_TASK_ROOT`` to find its
files).  A manifest cannot set any ``AWS_*``/``LAMBDA_*`` name or ``_HANDLER``
(see ``ramparts.manifest``), so these always say what the runtime knows.
No credentials are among them: a worker holds none (``AWS_ACCESS_KEY_ID`` and
the like are never set).
"""

from __future__ import annotations

import re
import sys
import time
import uuid

from ramparts.runtime.types import FunctionSpec

DEFAULT_REGION = "us-east-1"
# Region names as AWS spells them (us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4).
REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$")
EXECUTION_ENV = f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}"


def lambda_environment(spec: FunctionSpec, *, region: str, task_root: str) -> dict[str, str]:
    """The runtime variables of one new execution environment (a zygote and its workers).

    ``AWS_LAMBDA_LOG_STREAM_NAME`` is new per environment, in Lambda's
    ``date/[version]id`` form, so log lines of different environments can be told apart.
    """
    stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{spec.version[:12]}]{uuid.uuid4().hex}"
    return {
        "AWS_LAMBDA_FUNCTION_NAME": spec.function,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": f"{spec.timeout:g}",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": EXECUTION_ENV,
        "LAMBDA_TASK_ROOT": task_root,
        "_HANDLER": spec.handler,
    }
