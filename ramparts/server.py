"""Run a node: the gateway and the control API as two uvicorn servers on one loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from ramparts.config import Settings
from ramparts.control.api import create_control_app
from ramparts.forwarded import ClientAddress
from ramparts.gateway.app import Gateway
from ramparts.http_guard import Limits, control_limits, gateway_limits, guarded_protocol
from ramparts.node import Node
from ramparts.observe.exposition import metrics_app
from ramparts.ratelimit.aggregate import AggregatedAudit
from ramparts.tls import control_tls

log = logging.getLogger("ramparts.server")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # signals are handled by serve()
        yield


def _config(
    app: object,
    host: str,
    port: int,
    limits: Limits,
    *,
    tls: tuple[Path, Path] | None = None,
    forwarded_allow_ips: str = "",
) -> uvicorn.Config:
    extra: dict[str, object] = {}
    if tls is not None:
        extra = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}
    return uvicorn.Config(
        ClientAddress(app, forwarded_allow_ips),
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # uvicorn's records go through the node's formatter (observe/logs.py)
        access_log=False,
        server_header=False,
        lifespan="off",
        loop="none",
        http=guarded_protocol(limits),  # httptools, with header bounds, timeouts and caps
        ws="none",  # neither listener speaks WebSocket: an Upgrade is never honoured
        timeout_keep_alive=limits.idle_timeout,  # type: ignore[arg-type]
        # X-Forwarded-For is trusted only from proxies the operator names (uvicorn's
        # default trusts 127.0.0.1, where every sandbox reaches the gateway from), and
        # only as a valid address: ClientAddress applies uvicorn's proxy middleware itself.
        proxy_headers=False,
        **extra,  # type: ignore[arg-type]
    )


def _http_refusals(node: Node) -> Callable[[str, int, str], None]:
    """Audit the HTTP layer's refusals (431, 400, 408, 503 too many connections), aggregated."""
    floods = AggregatedAudit(node.rate_limits.refusals)
    gateway = f"gateway:{node.settings.port}"

    def refused(source_ip: str, status: int, code: str) -> None:
        floods.emit(
            "gateway.http", principal=f"ip:{source_ip}", action="http:-", resource=gateway,
            reason=code, status=status, source_ip=source_ip,
        )

    return refused


async def serve(settings: Settings, *, on_ready: Callable[[Node], None] | None = None) -> None:
    control_tls(settings)  # refuse a plain-HTTP control API off loopback before anything starts
    node = Node(settings)
    await node.start()
    # Everything loaded so far (the package, its libraries, the registry) lives as long as
    # the node.  Without this, every full collection walks those hundreds of thousands of
    # objects, a 100+ ms stop of the event loop every few seconds under load (the p99 of
    # authenticated routes, which allocate more per request); frozen, they are skipped.
    gc.collect()  # garbage from start-up is freed, not frozen
    gc.freeze()
    if settings.insecure_http:  # an operator's explicit choice, but a security event
        log.warning("gateway serves plain HTTP on non-loopback address %s", settings.host)
        node.audit.emit(
            "node.insecure_http",
            decision="allow",
            principal=f"node:{settings.node_id}",
            action="node:ServePlainHttp",
            resource=f"gateway:{settings.host}:{settings.port}",
            severity="high",
        )
    tls = (settings.tls_cert, settings.tls_key) if settings.tls_cert and settings.tls_key else None
    gateway = _Server(
        _config(
            Gateway(node),
            settings.host,
            settings.port,
            dataclasses.replace(gateway_limits(settings), on_refusal=_http_refusals(node)),
            tls=tls,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    )
    control = _Server(
        _config(
            create_control_app(node),
            settings.admin_host,
            settings.admin_port,
            control_limits(settings),
            tls=control_tls(settings),
        )
    )
    servers = [gateway, control]
    if settings.metrics_port:
        # Token-free, so loopback only: the address is fixed, not an option.
        servers.append(
            _Server(
                _config(
                    metrics_app(node), "127.0.0.1", settings.metrics_port,
                    control_limits(settings),
                )
            )
        )
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        while not all(server.started for server in servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.02)
        if all(server.started for server in servers) and on_ready is not None:
            on_ready(node)
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for t in done:
            if t.exception() is not None:
                raise t.exception()  # type: ignore[misc]
        if not all(server.started for server in servers):
            raise SystemExit(
                "could not bind the gateway, control or metrics listener (port in use?)"
            )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await node.close()


def run(settings: Settings, on_ready: Callable[[Node], None] | None = None) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(serve(settings, on_ready=on_ready))
    else:
        uvloop.run(serve(settings, on_ready=on_ready))
