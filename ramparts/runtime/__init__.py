"""The worker runtime: supervisor (host side), zygote, worker loop, IPC, handler context.

Deliberately empty of imports: the sandboxed zygote and workers import
``ramparts.runtime.*`` too, and must not pull in the host side (asyncio
streams, orjson).  Import ``ramparts.runtime.supervisor.Supervisor`` directly.
"""
