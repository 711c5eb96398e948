"""Host side: run ``pip install --target`` for a deploy inside the sandbox.

A deploy's dependency install runs code the deployer chose (requirement
lines, and whatever pip fetches).  It never runs as the node's user with the
node's environment: it gets the same sandbox as a worker, a host uid of its
own on a root node, no view of the data dir, and egress to the configured
package index only, through the same forwarder and gateway as handlers.

``SandboxedPip`` is what ``ramparts.registry.deps`` calls; it is synchronous
(deploys call it from a thread) and runs its own event loop, in a thread of
its own, for the egress gateway.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ramparts.sandbox import filesystem
from ramparts.sandbox.egress import EgressPolicy, parse_rules
from ramparts.sandbox.gateway import EgressGateway

DEFAULT_INDEX = "https://pypi.org/simple"
_PYPI_FILES = "files.pythonhosted.org:443"
INSTALL_TMP_MB = 2048
INSTALL_TIMEOUT = 600.0

BOOTSTRAP = """\
import sys
sys.dont_write_bytecode = True
import json
_cfg = json.loads(sys.argv[1])
_std = [p for p in sys.path if p and 'site-packages' not in p]
sys.path[:] = [_cfg['runtime_dir']] + _std
from ramparts.sandbox._install import main
main(_cfg)
"""


def index_rules(index_url: str) -> list[str]:
    """The egress allowlist of an install: the index's host (and PyPI's file host)."""
    parts = urlsplit(index_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"package index {index_url!r} must be an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    rules = [f"{host}:{port}"]
    if parts.hostname == "pypi.org":
        rules.append(_PYPI_FILES)
    return rules


class SandboxedPip:
    """Runs pip for ``ramparts.registry.deps`` inside a one-shot sandbox."""

    def __init__(
        self,
        host: Any,  # SandboxHost: its probe report, uid range, hidden paths, forbidden addrs
        *,
        runtime_dir: Path,
        index_url: str | None = None,
    ) -> None:
        self._host = host
        self._runtime_dir = Path(runtime_dir).resolve()
        self.index_url = index_url or _configured_index() or DEFAULT_INDEX
        self._rules = parse_rules(index_rules(self.index_url))
        import pip

        self._pip = str(Path(pip.__file__).resolve().parent)

    def __call__(
        self, requirements: Path, target: Path, options: Sequence[str] = ()
    ) -> tuple[int, str]:
        """Install ``requirements`` into ``target``; (pip's exit code, its output).

        ``options`` are pip options the registry chose (``--only-binary :all:``
        unless the node allows source builds); never the deployer's.
        """
        out: dict[str, Any] = {}

        def run() -> None:
            try:
                out["result"] = asyncio.run(self._run(requirements, target, tuple(options)))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                out["error"] = exc

        thread = threading.Thread(target=run, name="ramparts-pip", daemon=True)
        thread.start()
        thread.join()
        if "error" in out:
            raise out["error"]
        return out["result"]  # type: ignore[no-any-return]

    async def _run(
        self, requirements: Path, target: Path, options: tuple[str, ...]
    ) -> tuple[int, str]:
        uid = self._host.host_uid("pip-install")
        if uid is not None:
            os.chown(target, uid, uid)
        ctl_parent, ctl_child = socket.socketpair()
        eg_parent, eg_child = socket.socketpair()
        cfg = {
            "runtime_dir": str(self._runtime_dir),
            "pyseccomp": self._host.pyseccomp,
            "requirements": f"{filesystem.TASK_ROOT}/{requirements.name}",
            "pip_args": [
                "install",
                "--quiet",
                "--no-input",
                "--disable-pip-version-check",
                "--no-warn-script-location",
                "--no-cache-dir",
                "--retries",
                "1",
                "--timeout",
                "15",
                "--index-url",
                self.index_url,
                # What each archive hashed to: the SBOM's wheel hashes (registry.deps).
                "--report",
                f"{filesystem.DEPS_ROOT}/{filesystem.PIP_REPORT}",
                *options,
            ],
            "sandbox": self._host.install_config(
                code_dir=str(requirements.parent.resolve()),
                ctl_fd=ctl_child.fileno(),
                egress_fd=eg_child.fileno(),
                extra_ro=[(self._pip, f"{filesystem.RUNTIME_ROOT}/pip")],
                writable=[(str(target.resolve()), filesystem.DEPS_ROOT)],
                tmp_mb=INSTALL_TMP_MB,
                # A source build runs its backend in a new interpreter: only then may the
                # sandbox execute anything, and only the interpreter (bound read-only).
                allow_exec=[] if _wheels_only(options) else [_PYTHON],
            ),
            "python": _PYTHON,
        }
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": "/tmp",  # noqa: S108 - the sandbox's own
            "PIP_CONFIG_FILE": os.devnull,
            **self._host.proxy_environment(),
            # Nothing listens on the sandbox's own loopback: an index on this machine's
            # 127.0.0.1 is reached through the egress gateway like any other.
            "NO_PROXY": "",
            "no_proxy": "",
        }
        gateway = EgressGateway()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                "-c",
                BOOTSTRAP,
                json.dumps(cfg),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                pass_fds=(ctl_child.fileno(), eg_child.fileno()),
                env=env,
                cwd="/",
                start_new_session=True,
            )
        finally:
            ctl_child.close()
            eg_child.close()
        policy = EgressPolicy(self._rules, forbidden=self._host.forbidden)
        decisions: list[str] = []
        gateway.attach(
            eg_parent,
            policy,
            lambda h, p, ok, why: decisions.append(f"{'allow' if ok else 'deny'} {h}:{p}: {why}"),
        )
        try:
            assert proc.stdout is not None
            output, _ = await asyncio.wait_for(
                asyncio.gather(proc.stdout.read(), proc.wait()), INSTALL_TIMEOUT
            )
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return 124, "installing requirements timed out"
        finally:
            await gateway.close()
            ctl_parent.close()
        text = output.decode("utf-8", "replace")
        denied = [d for d in decisions if d.startswith("deny")]
        if denied:
            text += "\n" + "\n".join(f"egress refused: {d[5:]}" for d in denied[:5])
        if uid is not None:
            _chown_tree(target, os.geteuid(), os.getegid())
        return int(proc.returncode or 0), text


_PYTHON = os.path.realpath(sys.executable)  # inside a python root the sandbox binds


def _wheels_only(options: Sequence[str]) -> bool:
    return any(
        a == "--only-binary" and b == ":all:" for a, b in zip(options, options[1:], strict=False)
    )


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give the installed files back to the node before they are made read-only."""
    for dirpath, dirs, names in os.walk(root):
        for name in dirs + names:
            os.lchown(os.path.join(dirpath, name), uid, gid)
    os.lchown(root, uid, gid)


def _configured_index() -> str | None:
    """pip's own configuration on the node: PIP_INDEX_URL, else its config files."""
    env = os.environ.get("PIP_INDEX_URL")
    if env:
        return env
    try:
        from pip._internal.configuration import Configuration

        conf = Configuration(isolated=False)
        conf.load()
        for key in ("global.index-url", ":env:.index-url", "install.index-url"):
            try:
                value = conf.get_value(key)
            except Exception:  # noqa: BLE001,S112 - absent keys raise
                continue
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                return value
    except Exception:  # noqa: BLE001 - pip's internals moved: fall back to the default
        return None
    return None


__all__ = ["DEFAULT_INDEX", "SandboxedPip", "index_rules"]
