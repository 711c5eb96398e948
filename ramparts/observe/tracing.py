"""OpenTelemetry traces of one node: gateway, bus, worker invocation, broker calls.

Off by default.  ``ramparts up --otlp-endpoint URL`` turns it on: spans go to
an OTLP/HTTP collector through the SDK's batch processor (its own thread: a
slow or absent collector never blocks a request; spans it cannot take are
dropped, never queued without bound).  When it is off, ``Tracing.enabled`` is
False, nothing of the SDK is imported and callers skip every span.

Where a trace goes:

* the gateway opens a server span per request, continuing the caller's W3C
  ``traceparent`` when one is sent (its ``tracestate`` is not carried: it is
  the caller's opaque data; its "not sampled" flag is not obeyed: every
  request is recorded);
* ``Node.invoke_spec`` opens the invocation span (host side) as a child of
  whatever is current, and binds it to the request id, so that the handler's
  ``context.*`` calls, which reach the broker on the supervisor's IPC task,
  become its children too;
* a publish puts the ``traceparent`` of its producer span in every queued
  message's headers; the dispatcher continues it in a consumer span around
  the subscriber's invocation.  One trace thus follows an HTTP request into
  the topic messages its handler publishes and the invocations they trigger.

Spans carry names and bounded attributes the host chose (function, version,
trigger, operation, topic, status); never event payloads, message bodies,
secret names' values, keys or exception messages.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ramparts.errors import ConfigError

if TYPE_CHECKING:  # the SDK is imported only when tracing is on
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

log = logging.getLogger("ramparts.observe")

TRACEPARENT = "traceparent"
_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def check_otlp_endpoint(url: str) -> str:
    """The OTLP/HTTP traces URL for ``--otlp-endpoint``, or a ``ConfigError`` naming it.

    ``http(s)://host:port`` gets the standard ``/v1/traces`` path; a URL with a
    path is used as given.  Credentials in the URL are refused: they would be
    printed in logs and process listings.
    """
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        # not echoed: a malformed URL may still hold a password
        raise ConfigError("--otlp-endpoint: not a valid URL (check the host and port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "--otlp-endpoint: give an http:// or https:// URL of an OTLP/HTTP collector, "
            "e.g. http://127.0.0.1:4318"
        )
    if parts.username or parts.password:
        raise ConfigError("--otlp-endpoint: credentials do not belong in the URL")
    path = parts.path if parts.path not in ("", "/") else "/v1/traces"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class Tracing:
    """The node's tracer; a disabled one (no endpoint) costs one attribute check per site."""

    def __init__(self, endpoint: str | None, *, node_id: str = "", version: str = "") -> None:
        self.enabled = bool(endpoint)
        self._bound: dict[str, Context] = {}
        self._provider: Any = None
        self._tracer: Any = None
        if not endpoint:
            return
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        resource = Resource.create(
            {"service.name": "ramparts", "service.version": version, "service.instance.id": node_id}
        )
        # The node's own provider, never the process-wide one: nodes in one process stay apart.
        # Every request is traced: the default sampler would obey a caller's "not sampled"
        # flag, letting any client switch tracing off for its own requests.
        self._provider = TracerProvider(resource=resource, sampler=ALWAYS_ON)
        self._provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=check_otlp_endpoint(endpoint), timeout=5),
                max_queue_size=4096,
                schedule_delay_millis=1000,
            )
        )
        self._tracer = self._provider.get_tracer("ramparts")
        self._propagator = TraceContextTextMapPropagator()

    # -- propagation -------------------------------------------------------------------------
    def extract(self, carrier: Mapping[str, str]) -> Context | None:
        """The context of a W3C ``traceparent`` in ``carrier`` (None: a new trace starts)."""
        value = carrier.get(TRACEPARENT)
        if not value or not self.enabled:
            return None
        # Only traceparent: the sender's tracestate is not ours to carry on.
        return self._propagator.extract({TRACEPARENT: value})  # type: ignore[no-any-return]

    def traceparent(self) -> str | None:
        """The current span's ``traceparent`` value, for a message's headers."""
        if not self.enabled:
            return None
        carrier: dict[str, str] = {}
        self._propagator.inject(carrier)
        return carrier.get(TRACEPARENT)

    # -- spans -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def span(
        self,
        name: str,
        *,
        kind: str = "internal",
        parent: Context | None = None,
        attributes: Mapping[str, Any] | None = None,
        links: list[Context] | None = None,
    ) -> Iterator[Span]:
        """A current span named ``name``; exceptions mark it failed by class name only.

        Their messages are not recorded: a handler's or a driver's text may quote data.
        """
        from opentelemetry import trace
        from opentelemetry.trace import Link, SpanKind, Status, StatusCode

        span_kind = {
            "server": SpanKind.SERVER,
            "producer": SpanKind.PRODUCER,
            "consumer": SpanKind.CONSUMER,
            "client": SpanKind.CLIENT,
        }.get(kind, SpanKind.INTERNAL)
        span_links = []
        for ctx in links or ():
            linked = trace.get_current_span(ctx).get_span_context()
            if linked.is_valid:
                span_links.append(Link(linked))
        with self._tracer.start_as_current_span(
            name,
            context=parent,
            kind=span_kind,
            attributes=dict(attributes or {}),
            links=span_links,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as exc:
                code = getattr(exc, "code", None)
                span.set_status(Status(StatusCode.ERROR, str(code or type(exc).__name__)))
                raise

    def server_span(self, method: str, headers: Mapping[str, str]) -> Any:
        """The gateway's span of one request, continuing the caller's ``traceparent``."""
        verb = method if method in _HTTP_METHODS else "HTTP"
        return self.span(
            verb,
            kind="server",
            parent=self.extract(headers),
            attributes={"http.request.method": verb},
        )

    @staticmethod
    def name_current_route(method: str, route: str) -> None:
        """Name the current request span after its matched route's path template (bounded:
        ``/orders/{id}``, never the requested path)."""
        from opentelemetry import trace

        span = trace.get_current_span()
        verb = method if method in _HTTP_METHODS else "HTTP"
        span.update_name(f"{verb} {route}")
        span.set_attribute("http.route", route)

    @contextlib.contextmanager
    def invocation(
        self, request_id: str, function: str, version: str, trigger: str
    ) -> Iterator[Span]:
        """The host-side span of one invocation, bound to its request id for the broker."""
        from opentelemetry import context as otel_context

        with self.span(
            f"invoke {function}",
            attributes={
                "faas.name": function,
                "faas.version": version[:12],
                "faas.trigger": trigger,
                "faas.invocation_id": request_id,
            },
        ) as span:
            self._bound[request_id] = otel_context.get_current()
            try:
                yield span
            finally:
                self._bound.pop(request_id, None)

    def bound(self, request_id: str) -> Context | None:
        """The invocation context a broker call of ``request_id`` belongs to."""
        return self._bound.get(request_id)

    @staticmethod
    def trace_id(span: Any) -> str:
        return format(span.get_span_context().trace_id, "032x")

    @staticmethod
    def invocation_outcome(span: Any, status: str, cold: bool) -> None:
        from opentelemetry.trace import Status, StatusCode

        span.set_attribute("faas.coldstart", cold)
        span.set_attribute("ramparts.status", status)
        if status != "ok":
            span.set_status(Status(StatusCode.ERROR, status))

    def close(self) -> None:
        """Export what is buffered and stop (blocking, bounded by the exporter's timeout)."""
        if self._provider is not None:
            try:
                self._provider.shutdown()
            except Exception:
                log.warning("shutting down the trace exporter failed", exc_info=True)


DISABLED = Tracing(None)
