"""Per-version dependencies: ``requirements.txt`` installed with ``pip --target``.

Each distinct install (by the content of everything it reads: requirements.txt,
the files it includes, and the local wheels and source trees it names, see
``ramparts.scan.reqfile``) is installed once into its own directory and
shared by the versions that read exactly that content; a worker's import
path holds that directory and nothing of other functions.

Before pip runs, the file is checked against the node's ``InstallPolicy``:
includes outside the directory pip runs in, other indexes, hosts and URLs,
``${VAR}`` expansion and (unless the node allows them) source builds are
refused with ``requirements_refused``, whatever the deploy gate's accepted
risks say.  pip is told ``--only-binary :all:`` unless source builds are
allowed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from ramparts.errors import DeployError
from ramparts.sandbox.filesystem import PIP_REPORT
from ramparts.scan.reqfile import InstallPolicy, inspect

PIP_TIMEOUT = 600.0
# name -> {"version", "sha256", "kind"} of each archive pip installed, from its --report
# (the report itself is removed: its URLs could name the index with credentials)
ARCHIVE_HASHES = ".archive-hashes.json"
ONLY_BINARY = ("--only-binary", ":all:")
_MAX_PROBLEMS_SHOWN = 10

# (requirements file, target dir, extra pip options) -> (pip's exit code, its output):
# the sandboxed pip
PipRunner = Callable[[Path, Path, Sequence[str]], tuple[int, str]]


@dataclass(frozen=True)
class Plan:
    """A checked install: its cache key and the pip options it runs with."""

    digest: str
    options: tuple[str, ...]


def plan_install(
    requirements: Path, policy: InstallPolicy, *, sandboxed: bool, display: str = ""
) -> Plan:
    """Check ``requirements`` against the node's policy; the install's key and options.

    The root is the file's own directory: that is all the sandboxed installer
    can see.  ``DeployError(requirements_refused)`` lists each refused line by
    file and line number and says why; it never quotes a line or a file.
    """
    try:
        found = inspect(requirements, requirements.parent, policy)
    except (OSError, UnicodeError) as exc:
        raise DeployError(
            f"{display or requirements.name}: cannot be read", code="requirements_refused"
        ) from exc
    prefix = display.rsplit("/", 1)[0] + "/" if "/" in display else ""
    if found.problems:
        lines = [
            f"{prefix}{p.path}:{p.line}: {p.message}" for p in found.problems[:_MAX_PROBLEMS_SHOWN]
        ]
        more = len(found.problems) - len(lines)
        raise DeployError(
            "the requirements cannot be installed safely:\n"
            + "\n".join(lines)
            + (f"\n(and {more} more)" if more > 0 else ""),
            code="requirements_refused",
        )
    if found.source_builds and not sandboxed:
        raise DeployError(
            f"{display or requirements.name}: source builds run only inside the installer's "
            "sandbox, which this node does not have",
            code="requirements_refused",
        )
    options = () if policy.allow_source_builds else ONLY_BINARY
    return Plan(found.digest, options)


def install_requirements(
    requirements: Path,
    deps_root: Path,
    digest: str,
    *,
    pip: PipRunner | None = None,
    options: Sequence[str] = ONLY_BINARY,
) -> Path:
    """Install into ``deps_root/digest`` unless already there; return that dir.

    ``pip`` runs the install inside the sandbox (``ramparts.sandbox.installer``);
    without it (a node started with --allow-degraded-sandbox and no namespaces) pip
    runs here, as the node's user, with the node's environment minus RAMPARTS_*.
    Callers check the file with ``plan_install`` first.
    """
    target = deps_root / digest
    if (target / ".complete").exists():
        return target
    deps_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=deps_root))
    try:
        if pip is not None:
            code, output = pip(requirements, tmp, tuple(options))
            if code != 0:
                raise _install_failed(output, requirements, options)
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
            "--report",
            str(tmp / PIP_REPORT),
            *options,
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
            raise _install_failed(proc.stderr or proc.stdout, requirements, options)
        _finish(tmp, target, digest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _install_failed(output: str, requirements: Path, options: Sequence[str]) -> DeployError:
    message = "pip could not install the requirements:\n" + _clean_pip_error(output, requirements)
    if "--only-binary" in options and (
        "No matching distribution" in output or "Could not find a version" in output
    ):
        message += (
            "\nthis node installs wheels only (pip --only-binary :all:): a requirement "
            "published only as a source distribution cannot be installed; pick a release with "
            "a wheel, ship the wheel in the app, or ask the operator for --allow-source-builds"
        )
    return DeployError(message, code="dependency_install_failed")


def _keep_archive_hashes(tmp: Path) -> None:
    """Reduce pip's install report to each archive's SHA-256 (the SBOM's wheel hashes)."""
    report = tmp / PIP_REPORT
    hashes: dict[str, dict[str, str]] = {}
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        for item in data.get("install") or []:
            info = item.get("download_info") or {}
            sha = ((info.get("archive_info") or {}).get("hashes") or {}).get("sha256")
            meta = item.get("metadata") or {}
            if isinstance(sha, str) and meta.get("name") and meta.get("version"):
                url = str(info.get("url") or "")
                kind = "wheel" if url.split("#")[0].endswith(".whl") else "archive"
                hashes[canonicalize_name(str(meta["name"]))] = {
                    "version": str(meta["version"]), "sha256": sha, "kind": kind}
    except (OSError, ValueError, AttributeError):
        hashes = {}  # no report (an older pip): the SBOM falls back to RECORD hashes
    report.unlink(missing_ok=True)
    (tmp / ARCHIVE_HASHES).write_text(json.dumps(hashes, sort_keys=True))


def _finish(tmp: Path, target: Path, digest: str) -> None:
    _keep_archive_hashes(tmp)
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
