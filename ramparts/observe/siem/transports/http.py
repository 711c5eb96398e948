"""OCSF events over HTTP(S): Splunk HEC, Elasticsearch bulk, or plain NDJSON.

``?format=`` picks the body and the Authorization scheme of the token read
from ``--siem-token-secret`` (never logged, never put in a URL):

- ``hec``: ``{"time", "host", "source", "sourcetype": "ocsf", "event"}``
  objects, one per line, ``Authorization: Splunk <token>``;
- ``bulk``: NDJSON pairs ``{"create": {"_id": <record id>}}`` + document,
  ``Authorization: ApiKey <token>``; ``create`` makes a redelivered record a
  409 conflict, which counts as delivered (the URL names the index, e.g.
  ``/ramparts-audit/_bulk``);
- ``ndjson`` (default): one OCSF event per line, ``Authorization: Bearer``.

A 2xx answer is delivery; 413 raises ``Refused`` (the exporter halves the
batch, down to the record refused even alone); anything else raises
``DeliveryFailed`` and the batch is sent again later.  A bulk answer is read
item by item: 2xx and 409 are delivered, 429 and 5xx are sent again, any
other 4xx (a document the index cannot take: ``mapper_parsing_exception``)
is refused for good; all but the first kind raise ``ItemsRefused`` naming
which, so one bad document neither stalls the rest nor is resent forever.
Redirects are not followed (the token must not travel on).  HTTPS verifies
against the system's CAs, or only against ``?ca=``.  A 401 or 403 drops
the cached token, so a rotated secret is read again on the next attempt.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from ramparts.observe.siem.errors import DeliveryFailed, ItemsRefused, Refused
from ramparts.observe.siem.ocsf import dumps, ocsf_event
from ramparts.observe.siem.transports.base import TIMEOUT, Transport

_AUTH_SCHEME = {"hec": "Splunk", "bulk": "ApiKey", "ndjson": "Bearer"}
_CONTENT_TYPE = {
    "hec": "application/json",
    "bulk": "application/x-ndjson",
    "ndjson": "application/x-ndjson",
}


class HttpTransport(Transport):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        t = self.target
        verify: ssl.SSLContext | bool = False
        if t.scheme == "ocsf+https":
            verify = ssl.create_default_context(cafile=str(t.ca) if t.ca else None)
            verify.minimum_version = ssl.TLSVersion.TLSv1_2
        host = f"[{t.host}]" if ":" in t.host else t.host
        self._url = f"{'https' if t.scheme == 'ocsf+https' else 'http'}://{host}:{t.port}{t.path}"
        self._client = httpx.Client(
            verify=verify, timeout=TIMEOUT, follow_redirects=False, trust_env=False
        )
        self._token: str | None = None

    def _body(self, records: list[dict[str, Any]]) -> bytes:
        fmt = self.target.format
        lines: list[bytes] = []
        for r in records:
            event = ocsf_event(r, self.version)
            if fmt == "hec":
                lines.append(dumps({
                    "time": round(float(r.get("ts") or 0), 3),
                    "host": str(r.get("node") or ""),
                    "source": "ramparts",
                    "sourcetype": "ocsf",
                    "event": event,
                }))
            elif fmt == "bulk":
                lines.append(dumps({"create": {"_id": event["metadata"]["uid"]}}))
                lines.append(dumps(event))
            else:
                lines.append(dumps(event))
        return b"\n".join(lines) + b"\n"

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": _CONTENT_TYPE[self.target.format], "user-agent": "ramparts"}
        if self.token is not None:
            if self._token is None:
                self._token = self.token()
            if not self._token:
                raise DeliveryFailed(
                    f"{self.target.where}: the --siem-token-secret secret is missing"
                )
            headers["authorization"] = f"{_AUTH_SCHEME[self.target.format]} {self._token}"
        return headers

    def send(self, records: list[dict[str, Any]]) -> None:
        where = self.target.where
        headers = self._headers()
        try:
            response = self._client.post(self._url, content=self._body(records), headers=headers)
        except httpx.HTTPError as exc:
            cause = exc.__context__ or exc.__cause__
            if isinstance(cause, ssl.SSLCertVerificationError):
                raise DeliveryFailed(
                    f"{where}: certificate not trusted ({cause.verify_message})"
                ) from exc
            raise DeliveryFailed(f"{where}: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            self._token = None  # read the secret again: it may have been rotated
        if response.status_code == 413:
            raise Refused(f"{where}: HTTP 413 (too large for the collector)")
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"{where}: HTTP {response.status_code}")
        if self.target.format == "bulk":
            self._check_bulk(response, len(records))

    def _check_bulk(self, response: httpx.Response, sent: int) -> None:
        where = self.target.where
        try:
            body = response.json()
        except ValueError:
            raise DeliveryFailed(f"{where}: the bulk answer is not JSON") from None
        if not isinstance(body, dict) or not body.get("errors"):
            return
        items = body.get("items")
        if not isinstance(items, list) or len(items) != sent:
            raise DeliveryFailed(f"{where}: the bulk answer does not list every item")
        rejected: dict[int, str] = {}
        retry: set[int] = set()
        for n, item in enumerate(items):
            result = next(iter(item.values()), {}) if isinstance(item, dict) else {}
            status = result.get("status") if isinstance(result, dict) else None
            if isinstance(status, int) and (200 <= status < 300 or status == 409):
                continue  # 409: that id is already indexed
            if isinstance(status, int) and 400 <= status < 500 and status != 429:
                error = result.get("error")
                kind = error.get("type") if isinstance(error, dict) else None
                why = str(kind or "no reason")[:80]
                rejected[n] = f"{where}: bulk item refused (HTTP {status}, {why})"
            else:
                retry.add(n)
        if rejected or retry:
            raise ItemsRefused(
                f"{where}: bulk items failed: {len(rejected)} refused, {len(retry)} to retry",
                rejected=rejected,
                retry=retry,
            )

    def close(self) -> None:
        self._client.close()
