"""The control-API client used by every CLI command except ``up``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from ramparts.config import DEFAULT_URL, read_admin_token, resolve_data_dir
from ramparts.errors import RampartsError


class ClientError(RampartsError):
    """The node refused a request, or could not be reached."""

    def __init__(
        self, message: str, *, code: str, status: int = 0, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.details = details or {}


class ControlClient:
    def __init__(
        self, url: str | None = None, data_dir: str | Path | None = None, timeout: float = 120.0
    ) -> None:
        self.url = (url or os.environ.get("RAMPARTS_URL") or DEFAULT_URL).rstrip("/")
        token = read_admin_token(resolve_data_dir(data_dir))
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise ClientError(
                f"no Ramparts node answers at {self.url} (start one with 'ramparts up')",
                code="node_unreachable",
            ) from exc
        except httpx.HTTPError as exc:
            raise ClientError(
                f"talking to {self.url} failed: {exc.__class__.__name__}", code="node_unreachable"
            ) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ClientError(
                str(body.get("message") or response.reason_phrase),
                code=str(body.get("code") or "error"),
                status=response.status_code,
                details=body,
            )
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()
