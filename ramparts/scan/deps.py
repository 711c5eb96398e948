"""Dependencies: what the app pins, and which pins have known advisories.

Reads every dependency file a Python app ships (``requirements*.txt``,
``pyproject.toml``, ``poetry.lock``, ``uv.lock``, ``Pipfile.lock``) into one
list of ``Requirement`` rows, then asks an advisory source (``advisories.py``)
about the exactly pinned ones.  Two rules come out of it:

* RP-D001: a pinned version is affected by an OSV advisory; severity is the
  advisory's (GHSA rating or CVSS), HIGH when it has none, and the
  remediation names the lowest fixed release.
* RP-D002 (low): a requirement is not pinned to one version (a range, a URL,
  an editable install), so no advisory can be matched to it and what gets
  installed may change between deploys.  A ``pyproject.toml`` range is not a
  finding when a lock file sits next to it: the lock is what pins.
* RP-D003 (high): a requirements file makes the install do what the node
  refuses (``ramparts.scan.reqfile``): include a file outside the app, name
  another index, host or URL, expand ``${VAR}``, or build from source on a
  node that installs wheels only.  The node refuses these at install time
  whatever the gate says; the finding says so before anything is uploaded.

A scan without an advisory source still parses every file (and still reports
unpinned requirements); it adds a note saying that no pin was checked.
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

from ramparts.scan.advisories import AdvisoriesUnavailable, AdvisorySource
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.reqfile import InstallPolicy, inspect_text
from ramparts.scan.source import SourceFile, SourceTree

RULES = [
    Rule("RP-D001", "deps", "vulnerable-dependency",
         "A pinned dependency has a known vulnerability (OSV advisory).", "CWE-1395"),
    Rule("RP-D002", "deps", "unpinned-dependency",
         "A dependency is not pinned to one version, so it cannot be checked.", "CWE-1357"),
    Rule("RP-D003", "deps", "unsafe-requirements-option",
         "A requirements file includes files outside the app, names another index, host or "
         "URL, or builds from source.", "CWE-829"),
]
_D003_CWE = {"include": "CWE-22"}
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
                       problem, bounds=_bounds(req) if version is None else None)


def _bounds(req: Pep508) -> tuple[Version, Version, bool] | None:
    """Lowest and highest version a bounded range admits (``==2.10.*``, ``~=2.0.0``, ``>=a,<=b``).

    The lowest is a version no release the range admits lies below: the lowest
    admitted one, an exclusive lower bound itself (``>5.2``), or ``0`` when the
    range has no lower bound (``<5.4``).  An advisory that affects it and is fixed
    only beyond the highest therefore affects every admitted release.  The
    highest is exclusive unless the flag says inclusive.  None when the range is
    open above.
    """
    if req.url:
        return None
    low: Version | None = None
    high: tuple[Version, bool] | None = None
    try:
        for sp in req.specifier:
            op, text = sp.operator, sp.version
            if op == "==" and text.endswith(".*"):
                base = Version(text[:-2])
                rel = list(base.release)
                low, high = _max_low(low, base), _min_high(high, (_bump(rel, len(rel)), False))
            elif op == "~=":
                base = Version(text)
                rel = list(base.release)
                low = _max_low(low, base)
                high = _min_high(high, (_bump(rel, len(rel) - 1), False))
            elif op == ">":
                low = _max_low(low, Version(text))
            elif op in (">=", "=="):
                low = _max_low(low, Version(text))
                if op == "==":
                    high = _min_high(high, (Version(text), True))
            elif op == "<=":
                high = _min_high(high, (Version(text), True))
            elif op == "<":
                high = _min_high(high, (Version(text), False))
    except InvalidVersion:
        return None
    if high is None:
        return None
    return low if low is not None else Version("0"), high[0], high[1]


def _bump(release: list[int], keep: int) -> Version:
    """The release after every ``release[:keep].*``: 2.10 -> 2.11 (keep 2), 2.0.0 -> 2.1."""
    head = release[: max(keep, 1)]
    head[-1] += 1
    return Version(".".join(map(str, head)))


def _max_low(current: Version | None, new: Version) -> Version:
    return new if current is None or new > current else current


def _min_high(
    current: tuple[Version, bool] | None, new: tuple[Version, bool]
) -> tuple[Version, bool]:
    if current is None or new[0] < current[0] or (new[0] == current[0] and not new[1]):
        return new
    return current


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


def includes(text: str) -> list[tuple[int, str, bool]]:
    """(line, target, is_constraint) of every ``-r``/``-c`` option in a requirements file."""
    from ramparts.scan.reqfile import logical_lines

    out: list[tuple[int, str, bool]] = []
    for number, line in logical_lines(text):
        m = re.match(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S+)",
                     line.strip())
        if m:
            out.append((number, m.group(2), m.group(1) in ("-c", "--constraint")))
    return out


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


def collect(tree: SourceTree) -> tuple[list[Requirement], list[str]]:
    """Every requirement of every dependency file in the tree, and notes on unreadable ones."""
    reqs: list[Requirement] = []
    notes: list[str] = []
    locked_dirs = {
        sf.rel.rsplit("/", 1)[0] if "/" in sf.rel else ""
        for sf in tree.files
        if sf.rel.rsplit("/", 1)[-1] in LOCK_FILES
    }
    for sf in tree.files:
        if sf.text is None or not is_dependency_file(sf.rel):
            continue
        try:
            found = parse_file(sf)
        except ValueError as exc:
            notes.append(str(exc))
            continue
        folder = sf.rel.rsplit("/", 1)[0] if "/" in sf.rel else ""
        if sf.rel.endswith("pyproject.toml") and folder in locked_dirs:
            found = [r for r in found if r.pinned]  # the lock file pins the rest
        reqs.extend(found)
    reqs.extend(_included(tree))
    return reqs, notes


def _included(tree: SourceTree) -> list[Requirement]:
    """Requirements of files reached by ``-r``/``-c`` that are not dependency files by name.

    pip installs from them (``-r deps.in``) or is held to their pins
    (``-c pins.txt``) whatever they are called, and whether or not
    ``scan.exclude`` names them, so their pins are matched like any other.
    Includes resolve against the including file's directory, as pip does.
    """
    out: list[Requirement] = []
    done = {sf.rel for sf in tree.files if sf.text is not None and is_dependency_file(sf.rel)
            and sf.rel.endswith(".txt")}
    queue = [(rel, False) for rel in sorted(done)]
    while queue:
        rel, constraint = queue.pop(0)
        text = _read_inside(tree, rel)
        if text is None:
            continue
        for _, target, is_constraint in includes(text):
            child = _join(rel, target)
            if child is None or child in done:
                continue  # outside the app (RP-D003) or already read (also a cycle)
            done.add(child)
            child_text = _read_inside(tree, child)
            if child_text is None:
                continue  # missing: RP-D003 from the include check
            # requirements only: a line that is not one is never quoted back (it may be
            # anything, a secret included), and is the RP-D003 include check's business
            found = [r for r in parse_requirements_txt(child_text, child)
                     if r.pinned or r.problem.startswith("allows")]
            for r in found:
                r.constraint = constraint or is_constraint
            out.extend(found)
            queue.append((child, constraint or is_constraint))
    return out


def include_problems(tree: SourceTree) -> list[Finding]:
    """RP-D003 for an include that names no file of the app, or that includes itself."""
    out: dict[str, Finding] = {}
    roots = sorted(sf.rel for sf in tree.files if sf.text is not None
                   and sf.rel.endswith(".txt") and is_dependency_file(sf.rel))

    def finding(rel: str, line: int, message: str, text: str) -> None:
        f = Finding("RP-D003", Severity.HIGH, rel, line, message,
                    "include only files shipped in the app, each once (no -r/-c cycle)",
                    "deps", "CWE-829", fingerprint_text=f"include\x1f{text}")
        out.setdefault(f.id, f)

    def walk(rel: str, chain: tuple[str, ...]) -> None:
        text = _read_inside(tree, rel)
        if text is None or len(chain) > 64:
            return
        for line, target, _ in includes(text):
            child = _join(rel, target)
            if child is None:
                continue  # outside the app: the include check reports it
            if child in chain or child == rel:
                finding(rel, line, f"{target} includes {rel} again (a -r/-c cycle: "
                        + " -> ".join([*chain, rel, child]) + "): pip cannot resolve it", target)
                continue
            if _read_inside(tree, child) is None:
                finding(rel, line, f"{target} is not a file of the app: the install fails and "
                        "its pins cannot be checked", target)
                continue
            walk(child, (*chain, rel))

    for rel in roots:
        walk(rel, ())
    return list(out.values())


def _join(rel: str, target: str) -> str | None:
    import posixpath

    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", target):
        return None
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    joined = posixpath.normpath(posixpath.join(folder, target))
    return None if joined.startswith("../") or joined.startswith("/") or joined == ".." else joined


def _read_inside(tree: SourceTree, rel: str) -> str | None:
    sf = tree.get(rel)
    if sf is not None:
        return sf.text
    path = tree.root / rel  # excluded from the scan, still installed from: read it anyway
    try:
        if not path.resolve().is_relative_to(tree.root.resolve()) or not path.is_file():
            return None
        if path.stat().st_size > 1024 * 1024:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def unsafe_options(tree: SourceTree, policy: InstallPolicy) -> list[Finding]:
    """RP-D003: what a node would refuse to install, found before anything is uploaded."""
    out: dict[str, Finding] = {}
    for sf in tree.files:
        name = sf.rel.rsplit("/", 1)[-1]
        if sf.text is None or not name.endswith(".txt") or not is_dependency_file(sf.rel):
            continue
        for p in inspect_text(sf.text, sf.rel, tree.root, policy):
            f = Finding(
                rule_id="RP-D003",
                severity=Severity.HIGH,
                path=p.path,
                line=p.line,
                message=p.message,
                remediation="list pinned releases from the node's package index, or wheels "
                "shipped inside the app; the node refuses this line at install time",
                family="deps",
                cwe=_D003_CWE.get(p.kind, "CWE-829"),
                fingerprint_text=f"{p.kind}\x1f{p.text}",
            )
            out.setdefault(f.id, f)  # an included file is also scanned on its own
    return list(out.values())


def scan(
    tree: SourceTree, source: AdvisorySource | None, policy: InstallPolicy | None = None
) -> tuple[list[Finding], list[str]]:
    reqs, notes = collect(tree)
    findings: list[Finding] = unsafe_options(tree, policy or InstallPolicy())
    findings += include_problems(tree)
    for r in reqs:
        if r.pinned or r.constraint:
            continue
        findings.append(
            Finding(
                rule_id="RP-D002",
                severity=Severity.LOW,
                path=r.path,
                line=r.line,
                message=f"{r.spec} is not pinned ({r.problem}): it cannot be checked against "
                "advisories and may change between deploys",
                remediation="pin one release (name==X.Y.Z) or commit a lock file "
                "(poetry.lock, uv.lock, Pipfile.lock)",
                family="deps",
                cwe="CWE-1357",
                fingerprint_text=f"{r.name}\x1f{r.spec}",
            )
        )
    ranged = [r for r in reqs if r.version is None and r.bounds is not None]
    pins = sorted({(r.name, r.version) for r in reqs if r.version is not None}
                  | {(r.name, r.bounds[0]) for r in ranged if r.bounds is not None}, key=str)
    if not pins:
        return findings, notes
    if source is None:
        notes.append(f"advisories unavailable: {len(pins)} pinned dependencies were not checked "
                     "(no advisory source; use --advisories PATH or `ramparts advisories sync`)")
        return findings, notes
    try:
        matched = source.match(pins)
    except AdvisoriesUnavailable as exc:
        notes.append(f"advisories unavailable: {len(pins)} pinned dependencies were not checked "
                     f"({exc.message})")
        return findings, notes
    notes.append(f"{len(pins)} pinned dependencies checked against {source.description}")
    for r in reqs:
        if r.version is None:
            continue
        findings += _vulnerable(r, r.version, matched.get((r.name, r.version), []), "")
    for r in ranged:
        assert r.bounds is not None
        low, high, inclusive = r.bounds
        every = []
        for adv in matched.get((r.name, low), []):
            fixed = adv.fixed_for(low)
            # the fix for the lowest allowed release lies beyond the range: no release the
            # range admits is outside that advisory's affected range
            if fixed is None or _beyond(Version(fixed), high, inclusive):
                every.append(adv)
        findings += _vulnerable(r, low, every, f" (every release {r.spec} allows is affected)")
    return findings, notes


def _beyond(fixed: Version, high: Version, inclusive: bool) -> bool:
    return fixed > high if inclusive else fixed >= high


def _vulnerable(r: Requirement, version: Version, advisories: list[Any], why: str
                ) -> list[Finding]:
    findings: list[Finding] = []
    for adv in advisories:
        fixed = adv.fixed_for(version)
        findings.append(
            Finding(
                rule_id="RP-D001",
                severity=adv.severity,
                path=r.path,
                line=r.line,
                message=f"{f'{r.name} {r.version}' if r.version else r.spec} is affected by "
                f"{adv.title}: "
                f"{adv.summary}{why}"
                + ("" if adv.severity_known else " (no severity published; treated as high)"),
                remediation=(f"upgrade {r.name} to {fixed} or later" if fixed else
                             f"no fixed release of {r.name} is published: remove or "
                             "replace it, or accept the risk explicitly"),
                family="deps",
                cwe=adv.cwe or "CWE-1395",
                fingerprint_text=f"{r.name}\x1f{r.version or r.spec}\x1f{adv.id}",
                extra={"package": r.name, "version": str(r.version or r.spec),
                       "advisory": adv.id, "fixed_version": fixed},
            )
        )
    return findings
