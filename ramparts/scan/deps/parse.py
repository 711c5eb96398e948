"""Dependency files, one kind at a time, read into ``Requirement`` rows.

``requirements*.txt`` (and ``requirements/*.txt``), ``pyproject.toml`` (PEP 621,
dependency groups, Poetry), ``poetry.lock``/``pdm.lock``, ``uv.lock`` and
``Pipfile.lock``.  A requirement pinned to one release carries its ``version``;
one that is not says why in ``problem`` (and, for a bounded range, its bounds).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ramparts.scan.deps.ranges import range_bounds
from ramparts.scan.source import SourceFile

LOCK_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock")
_POETRY_EXACT = re.compile(r"^\s*(==|=)?\s*([0-9][A-Za-z0-9.+!-]*)\s*$")


@dataclass
class Requirement:
    """One dependency as a file states it."""

    name: str  # canonical (PEP 503)
    spec: str  # as written, for messages
    path: str
    line: int
    version: Version | None = None  # set only when pinned to exactly one release
    problem: str = ""  # why it cannot be checked, when unpinned
    constraint: bool = False  # from a -c file: limits what is installed, installs nothing
    # (lowest allowed, highest allowed, highest inclusive) of a bounded range, e.g. ==2.10.*
    bounds: tuple[Version, Version, bool] | None = None

    @property
    def pinned(self) -> bool:
        return self.version is not None


def is_dependency_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if name in ("pyproject.toml", *LOCK_FILES):
        return True
    parent = rel.rsplit("/", 2)[-2] if "/" in rel else ""
    return name.endswith(".txt") and (name.startswith("requirements") or parent == "requirements")


def _find_line(text: str, *needles: str) -> int:
    lines = text.splitlines()
    for needle in needles:
        pattern = re.compile(re.escape(needle).replace(r"\-", "[-_.]"), re.I)
        for i, line in enumerate(lines, 1):
            if pattern.search(line):
                return i
    return 1


def _exact(req: Pep508) -> Version | None:
    specs = list(req.specifier)
    if req.url or len(specs) != 1 or specs[0].operator not in ("==", "==="):
        return None
    if "*" in specs[0].version:
        return None
    try:
        return Version(specs[0].version)
    except InvalidVersion:
        return None


def _from_pep508(text: str, path: str, line: int) -> Requirement | None:
    try:
        req = Pep508(text)
    except InvalidRequirement:
        head = re.split(r"[\s<>=!~;\[@]", text, maxsplit=1)[0] or text
        return Requirement(canonicalize_name(head), text, path, line,
                           problem="the line cannot be parsed")
    version = _exact(req)
    spec = str(req.specifier) or (f"@ {req.url}" if req.url else "")
    problem = ""
    if version is None:
        problem = "installed from a URL" if req.url else (
            f"allows {spec}" if spec else "allows any version")
    return Requirement(canonicalize_name(req.name), f"{req.name}{spec}", path, line, version,
                       problem, bounds=range_bounds(req) if version is None else None)


def parse_requirements_txt(text: str, path: str) -> list[Requirement]:
    out: list[Requirement] = []
    logical: list[tuple[int, str]] = []
    buf, start = "", 0
    for i, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buf:
            start = i
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            logical.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        logical.append((start, buf.strip()))
    for lineno, line in logical:
        if line.startswith(("-e ", "--editable")):
            target = line.split(None, 1)[1] if " " in line else line
            out.append(Requirement(canonicalize_name(target.rsplit("/", 1)[-1].split("#")[0]),
                                   line, path, lineno, problem="an editable install"))
            continue
        if line.startswith("-"):
            continue  # -r/-c includes (scanned as files of their own), index options
        # drop per-requirement options: --hash=..., --config-settings ...
        text_req = re.split(r"\s+--?[a-z]", line, maxsplit=1)[0].strip()
        if re.match(r"^(https?|file|git\+\w+)://|^[./]", text_req) or text_req.lower().endswith(
            (".whl", ".tar.gz", ".zip")
        ):
            named = _archive_release(text_req)
            if named is not None:  # a wheel or sdist file name states its release (PEP 427)
                out.append(Requirement(named[0], text_req, path, lineno, named[1]))
                continue
            out.append(Requirement(canonicalize_name(text_req.rsplit("/", 1)[-1]), text_req,
                                   path, lineno, problem="installed from a URL or path"))
            continue
        req = _from_pep508(text_req, path, lineno)
        if req is not None:
            out.append(req)
    return out


def _archive_release(target: str) -> tuple[str, Version] | None:
    """(name, version) from a wheel's or sdist's file name, if it is one."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    name = target.split("#", 1)[0].rsplit("/", 1)[-1]
    try:
        if name.endswith(".whl"):
            dist, version, _, _ = parse_wheel_filename(name)
            return str(dist), version
        if name.endswith((".tar.gz", ".zip")):
            dist, version = parse_sdist_filename(name)
            return str(dist), version
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def _poetry_requirement(name: str, value: Any, path: str, text: str) -> Requirement:
    line = _find_line(text, f"{name} =", f'"{name}" =', name)
    spec = value.get("version") if isinstance(value, dict) else value
    if isinstance(spec, str):
        m = _POETRY_EXACT.match(spec)
        if m:
            try:
                return Requirement(canonicalize_name(name), f"{name}=={m.group(2)}", path, line,
                                   Version(m.group(2)))
            except InvalidVersion:
                pass
        return Requirement(canonicalize_name(name), f"{name} {spec}", path, line,
                           problem=f"allows {spec}")
    return Requirement(canonicalize_name(name), name, path, line,
                       problem="installed from a URL, path or repository")


def parse_pyproject(text: str, path: str) -> list[Requirement]:
    data = tomllib.loads(text)
    out: list[Requirement] = []
    strings: list[str] = []
    project = data.get("project") or {}
    strings.extend(s for s in project.get("dependencies") or [] if isinstance(s, str))
    for group in (project.get("optional-dependencies") or {}).values():
        strings.extend(s for s in group or [] if isinstance(s, str))
    for group in (data.get("dependency-groups") or {}).values():
        strings.extend(s for s in group or [] if isinstance(s, str))
    own = canonicalize_name(str(project.get("name") or "")) if project.get("name") else None
    for s in strings:
        req = _from_pep508(s, path, _find_line(text, s, s.split(";")[0].strip()))
        if req is not None and req.name != own:  # "app[extra]" self-references
            out.append(req)
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [(g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()]
    for table in tables:
        for name, value in table.items():
            if name.lower() != "python":
                out.append(_poetry_requirement(name, value, path, text))
    return out


def _lock_packages(text: str, path: str, *, uv: bool) -> list[Requirement]:
    data = tomllib.loads(text)
    out: list[Requirement] = []
    lines = text.splitlines()
    for pkg in data.get("package") or []:
        if not isinstance(pkg, dict) or "name" not in pkg:
            continue
        source = pkg.get("source") or {}
        if uv and isinstance(source, dict) and ({"editable", "virtual"} & set(source)):
            continue  # the project itself
        name = str(pkg["name"])
        line = next(
            (i for i, ln in enumerate(lines, 1) if re.fullmatch(rf'name\s*=\s*"{re.escape(name)}"',
                                                               ln.strip())),
            1,
        )
        try:
            version = Version(str(pkg.get("version")))
        except InvalidVersion:
            out.append(Requirement(canonicalize_name(name), name, path, line,
                                   problem="its locked version cannot be read"))
            continue
        out.append(Requirement(canonicalize_name(name), f"{name}=={version}", path, line, version))
    return out


def parse_pipfile_lock(text: str, path: str) -> list[Requirement]:
    data = json.loads(text)
    out: list[Requirement] = []
    for section in ("default", "develop"):
        for name, entry in (data.get(section) or {}).items():
            line = _find_line(text, f'"{name}": {{', f'"{name}"')
            ver = entry.get("version") if isinstance(entry, dict) else None
            if isinstance(ver, str) and ver.startswith("=="):
                try:
                    out.append(Requirement(canonicalize_name(name), f"{name}{ver}", path, line,
                                           Version(ver[2:])))
                    continue
                except InvalidVersion:
                    pass
            out.append(Requirement(canonicalize_name(name), name, path, line,
                                   problem="locked to a repository or path, not a release"))
    return out


def parse_file(sf: SourceFile) -> list[Requirement]:
    """Requirements stated by one dependency file; ``ValueError`` if it is malformed."""
    assert sf.text is not None
    name = sf.rel.rsplit("/", 1)[-1]
    try:
        if name == "pyproject.toml":
            return parse_pyproject(sf.text, sf.rel)
        if name in ("poetry.lock", "pdm.lock"):
            return _lock_packages(sf.text, sf.rel, uv=False)
        if name == "uv.lock":
            return _lock_packages(sf.text, sf.rel, uv=True)
        if name == "Pipfile.lock":
            return parse_pipfile_lock(sf.text, sf.rel)
        return parse_requirements_txt(sf.text, sf.rel)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, AttributeError, TypeError) as exc:
        raise ValueError(f"{sf.rel}: cannot be read as {name} ({exc.__class__.__name__})") from exc
