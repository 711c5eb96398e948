"""Which buckets exist for an app.

Ramparts has no CreateBucket: an app's buckets are the ones it declares, plus
any that hold data.  A bucket exists for a caller when

- an object trigger of the caller's app names it (``object: {bucket: uploads}``), or
- the caller's role names it literally in a resource (``objects:uploads/*``,
  ``arn:ramparts:objects:APP:bucket/uploads/...``, ``arn:aws:s3:::uploads/*``;
  a name with a wildcard, ``uploads-*``, declares nothing), or
- it holds an object or a multipart upload of the app.

Anything else is ``NoSuchBucket``.  The check runs only after the call was
authorized, so it tells a caller nothing about buckets it may not touch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ramparts.policy.document import expand_resource

_WILDCARDS = ("*", "?", "$")


def _bucket_of(app: str, resource: str) -> str | None:
    expanded = expand_resource(app, resource)
    for head in (f"arn:ramparts:objects:{app}:bucket/", "arn:aws:s3:::"):
        if expanded.startswith(head):
            name = expanded[len(head) :].split("/", 1)[0]
            if name and not any(w in name for w in _WILDCARDS):
                return name
    return None


def role_buckets(app: str, documents: Iterable[dict[str, Any]]) -> set[str]:
    """Bucket names the Allow statements of IAM JSON ``documents`` spell out."""
    names: set[str] = set()
    for doc in documents:
        statements = doc.get("Statement", [])
        for st in statements if isinstance(statements, list) else [statements]:
            if not isinstance(st, dict) or st.get("Effect") != "Allow":
                continue
            resources = st.get("Resource", [])
            for r in resources if isinstance(resources, list) else [resources]:
                if isinstance(r, str):
                    name = _bucket_of(app, r)
                    if name:
                        names.add(name)
    return names
