"""The route table of the public gateway, rebuilt whenever a live alias moves.

Static paths are a dict lookup; parameterised paths (``/orders/{id}``,
greedy ``/files/{path+}``) are tried in order of specificity.  A path that
exists under another method answers 405, anything else 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

from ramparts.errors import RampartsError
from ramparts.manifest import HttpTrigger, WebhookTrigger
from ramparts.registry.service import LiveFunction


class RouteNotFound(RampartsError):
    code = "route_not_found"
    status = 404


class MethodNotAllowed(RampartsError):
    code = "method_not_allowed"
    status = 405


@dataclass
class Route:
    method: str
    path: str
    function: LiveFunction
    trigger: HttpTrigger | WebhookTrigger
    index: int
    validator: Any = None  # compiled JSON Schema for the body, when declared
    regex: re.Pattern[str] | None = None
    names: list[str] = field(default_factory=list)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_webhook(self) -> bool:
        return isinstance(self.trigger, WebhookTrigger)


def _compile_path(path: str) -> tuple[re.Pattern[str], list[str]]:
    names: list[str] = []
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            names.append(segment[1:-2])
            parts.append("(.+)")
        elif segment.startswith("{"):
            names.append(segment[1:-1])
            parts.append("([^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$"), names


def _load_validator(fn: LiveFunction, schema: str | None) -> Any:
    if not schema:
        return None
    doc = orjson.loads((Path(fn.spec.code_dir) / schema).read_bytes())
    return fastjsonschema.compile(doc)


class Router:
    def __init__(self, live: list[LiveFunction]) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._dynamic: list[Route] = []
        for fn in live:
            for i, trig in enumerate(fn.config.triggers):
                if trig.http is not None:
                    route = Route(
                        trig.http.method,
                        trig.http.path,
                        fn,
                        trig.http,
                        i,
                        _load_validator(fn, trig.http.schema_),
                    )
                elif trig.webhook is not None:
                    route = Route("POST", trig.webhook.path, fn, trig.webhook, i)
                else:
                    continue
                if "{" in route.path:
                    route.regex, route.names = _compile_path(route.path)
                    self._dynamic.append(route)
                else:
                    self._static[(route.method, route.path)] = route
        # More literal segments first, greedy parameters last.
        self._dynamic.sort(
            key=lambda r: (r.path.count("+}"), -r.path.count("/"), r.path.count("{"))
        )

    def __len__(self) -> int:
        return len(self._static) + len(self._dynamic)

    def on_path(self, path: str) -> list[Route]:
        """Every route whose path matches ``path``, whatever its method (for a 405)."""
        found = [r for (_, p), r in self._static.items() if p == path]
        found += [r for r in self._dynamic if r.regex is not None and r.regex.match(path)]
        return found

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        route = self._static.get((method, path)) or self._static.get(("ANY", path))
        if route is not None:
            return route, {}
        if method == "HEAD":
            route = self._static.get(("GET", path))
            if route is not None:
                return route, {}
        path_exists = any(p == path for (_, p) in self._static)
        for route in self._dynamic:
            m = route.regex.match(path) if route.regex else None
            if m is None:
                continue
            if route.method in (method, "ANY") or (method == "HEAD" and route.method == "GET"):
                return route, dict(zip(route.names, m.groups(), strict=True))
            path_exists = True
        if path_exists:
            raise MethodNotAllowed(f"{method} is not allowed on this path")
        raise RouteNotFound("no route matches this path")
