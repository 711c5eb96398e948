"""Run a node: the gateway and the control API as two uvicorn servers on one loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Iterator

import uvicorn

from ramparts.config import Settings
from ramparts.control.api import create_control_app
from ramparts.gateway.app import Gateway
from ramparts.node import Node

log = logging.getLogger("ramparts.server")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # signals are handled by serve()
        yield


def _config(app: object, host: str, port: int, settings: Settings | None = None) -> uvicorn.Config:
    tls = {}
    if settings is not None and settings.tls_cert and settings.tls_key:
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="off",
        loop="none",
        http="httptools",
        timeout_keep_alive=30,
        # X-Forwarded-For is trusted only from proxies the operator names: uvicorn's
        # default trusts 127.0.0.1, where every sandbox reaches the gateway from.
        proxy_headers=bool(settings and settings.forwarded_allow_ips),
        forwarded_allow_ips=(settings.forwarded_allow_ips if settings else None) or "",
        **tls,  # type: ignore[arg-type]
    )


async def serve(settings: Settings, *, on_ready: Callable[[Node], None] | None = None) -> None:
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
    gateway = _Server(_config(Gateway(node), settings.host, settings.port, settings))
    control = _Server(_config(create_control_app(node), settings.admin_host, settings.admin_port))
    loop = asyncio.get_running_loop()

    def stop() -> None:
        gateway.should_exit = True
        control.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(gateway.serve()), asyncio.create_task(control.serve())]
    try:
        while not (gateway.started and control.started):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.02)
        if gateway.started and control.started and on_ready is not None:
            on_ready(node)
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for t in done:
            if t.exception() is not None:
                raise t.exception()  # type: ignore[misc]
        if not (gateway.started and control.started):
            raise SystemExit("could not bind the gateway or control listener (port in use?)")
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
