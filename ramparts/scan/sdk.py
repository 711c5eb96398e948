"""Deploy warnings about an AWS SDK pinned too old to find Ramparts' AWS endpoint.

Handlers reach the node's AWS-compatible API through ``AWS_ENDPOINT_URL``,
which botocore honours from 1.31.57 on (boto3 1.28.57).  The runtime provides
a recent boto3 (ramparts.aws.runtime), but a function's own pinned copy in its
requirements.txt wins; an older pin would silently call the real AWS
endpoints, so the deploy says which minimum version to pin instead.
"""

from __future__ import annotations

from packaging.version import Version

from ramparts.scan.deps.parse import parse_requirements_txt

# botocore added AWS_ENDPOINT_URL (service-specific endpoints) in 1.31.57
MINIMUM = {"botocore": Version("1.31.57"), "boto3": Version("1.28.57")}


def old_sdk_pins(text: str, path: str) -> list[str]:
    """Warnings for boto3/botocore pinned below the versions that honour AWS_ENDPOINT_URL."""
    warnings = []
    for req in parse_requirements_txt(text, path):
        minimum = MINIMUM.get(req.name)
        if minimum is not None and req.version is not None and req.version < minimum:
            warnings.append(
                f"{path}:{req.line}: {req.name}=={req.version} ignores AWS_ENDPOINT_URL, so its "
                f"calls would not reach this node's AWS API: pin {req.name}>={minimum}"
            )
    return warnings
