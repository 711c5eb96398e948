"""S3 over the object store: the service boto3's ``s3`` client talks to (path-style).

``S3`` is registered in :mod:`ramparts.aws.services` under the signing name
``s3``; the pieces it is built from each live in their own module: the wire
format (:mod:`.wire`), byte ranges (:mod:`.ranges`), ``aws-chunked`` bodies and
checksums (:mod:`.chunked`), which buckets exist (:mod:`.buckets`) and listing
pages (:mod:`.listing`).
"""

from __future__ import annotations

from ramparts.aws.s3.service import S3

__all__ = ["S3"]
