"""Errors of SIEM export (bad destination URLs are ``ConfigError``s)."""

from __future__ import annotations

from ramparts.errors import BackendError


class DeliveryFailed(BackendError):
    """A batch did not reach a collector; it stays spooled and is retried.

    The message names the destination and the reason (never a token or a
    traceback): it is shown in the node's log and in ``GET /v1/siem``.
    """

    code = "siem_delivery_failed"


class Refused(DeliveryFailed):
    """The collector answered that the batch is too large (HTTP 413): the exporter halves
    the batch, and drops a record refused even alone (counted and audited) instead of
    retrying what cannot succeed.  Other refusals (400, 422) are usually a collector
    misconfiguration (wrong index, endpoint): those keep the records and retry."""

    code = "siem_refused"
