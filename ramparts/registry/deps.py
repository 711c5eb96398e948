"""Per-version dependencies: ``requirements.txt`` installed with ``pip --target``.

Each distinct requirements file (by content hash) is installed once into its
own directory and shared by the versions that name exactly that file; a
worker's import path holds that directory and nothing of other functions.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ramparts.errors import DeployError

PIP_TIMEOUT = 600.0

# (requirements file, target dir) -> (pip's exit code, its output): the sandboxed pip
PipRunner = Callable[[Path, Path], tuple[int, str]]


def requirements_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def install_requirements(
    requirements: Path, deps_root: Path, digest: str, *, pip: PipRunner | None = None
) -> Path:
    """Install into ``deps_root/digest`` unless already there; return that dir.

    ``pip`` runs the install inside the sandbox (``ramparts.sandbox.installer``);
    without it (a node started with --allow-degraded-sandbox and no namespaces) pip
    runs here, as the node's user, with the node's environment minus RAMPARTS_*.
    """
    target = deps_root / digest
    if (target / ".complete").exists():
        return target
    deps_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=deps_root))
    try:
        if pip is not None:
            code, output = pip(requirements, tmp)
            if code != 0:
                raise DeployError(
                    "pip could not install the requirements:\n"
                    + _clean_pip_error(output, requirements),
                    code="dependency_install_failed",
                )
            _finish(tmp, target, digest)
            return target
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-input",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--target",
            str(tmp),
            "-r",
            str(requirements),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAMPARTS_")}
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=PIP_TIMEOUT,
                env=env,
                cwd=requirements.parent,
            )
        except subprocess.TimeoutExpired as exc:
            raise DeployError(
                "installing requirements timed out", code="dependency_install_failed"
            ) from exc
        if proc.returncode != 0:
            raise DeployError(
                "pip could not install the requirements:\n"
                + _clean_pip_error(proc.stderr or proc.stdout, requirements),
                code="dependency_install_failed",
            )
        _finish(tmp, target, digest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _finish(tmp: Path, target: Path, digest: str) -> None:
    (tmp / ".complete").write_text(digest)
    _read_only(tmp)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)


def _read_only(root: Path) -> None:
    """Readable by the sandbox's own uid, writable by nobody (like artifacts)."""
    for dirpath, dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if not path.is_symlink():
                os.chmod(path, 0o555 if path.stat().st_mode & 0o100 else 0o444)  # noqa: S103
        for name in dirs:
            os.chmod(Path(dirpath) / name, 0o555)  # noqa: S103
    os.chmod(root, 0o555)  # noqa: S103


def _clean_pip_error(text: str, requirements: Path) -> str:
    """Keep pip's message but not the node's temp paths."""
    lines = [
        ln
        for ln in text.strip().splitlines()
        if ln.strip() and "pip is available" not in ln and not ln.startswith("WARNING: Location")
    ]
    out = "\n".join(lines[-15:])
    out = out.replace(str(requirements), "requirements.txt")
    return re.sub(r"/[\w./-]*/\.tmp-[\w-]+", "<target>", out)
