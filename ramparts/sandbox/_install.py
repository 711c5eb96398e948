"""Inside the installer's sandbox: ``pip install --target`` and nothing else.

Started by ``ramparts.sandbox.installer`` as ``python -I -S -c BOOTSTRAP CFG``;
enters the same sandbox as a zygote (namespaces, filesystem, Landlock,
seccomp, no privileges), with the requirements' directory read-only at
/var/task, the install target writable at /opt/python and pip itself
read-only under /var/runtime.  The only way out is the egress forwarder, and
the host lets it reach the configured package index only.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from ramparts.errors import RampartsError
from ramparts.sandbox import filesystem, jail


def main(cfg: dict[str, Any]) -> None:
    sb = cfg["sandbox"]
    try:
        jail.preload(cfg.get("pyseccomp"), sb)
        jail.enter(sb)
        jail.seal(sb)
    except RampartsError as exc:
        print(f"sandbox: {exc.message}", file=sys.stderr)
        os._exit(70)
    socket.socket(fileno=int(sb["ctl_fd"])).close()
    if cfg.get("python"):
        sys.executable = cfg["python"]  # what pip starts build backends with
    std = [p for p in sys.path if p and p != cfg["runtime_dir"]]
    sys.path[:] = [filesystem.RUNTIME_ROOT, *std]
    from pip._internal.cli.main import main as pip_main

    args = [*cfg["pip_args"], "--target", filesystem.DEPS_ROOT, "-r", cfg["requirements"]]
    code = pip_main(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code or 0))
