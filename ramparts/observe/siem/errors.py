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


class ItemsRefused(DeliveryFailed):
    """The collector answered for each record of the batch (Elasticsearch bulk items) and
    not all were taken: ``rejected`` maps a record's index in the batch to why it was
    refused for good (the exporter drops and reports it), ``retry`` holds the indexes to
    send again (429, 5xx); every other record was delivered."""

    code = "siem_items_refused"

    def __init__(self, message: str, *, rejected: dict[int, str], retry: set[int]) -> None:
        super().__init__(message)
        self.rejected = rejected
        self.retry = retry
