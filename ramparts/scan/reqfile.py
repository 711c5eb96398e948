"""What a ``requirements.txt`` asks pip to do, and which of it a node permits.

A requirements file is not a list of names: pip reads options from it that
include other files (``-r``, ``-c``), name other indexes and hosts
(``--index-url``, ``--extra-index-url``, ``--find-links``,
``--trusted-host``), install from URLs and local paths, and build source
trees (running their ``setup.py`` or build backend).  Deploy-time installs
run code the deployer chose, so every line is classified here, once, for two
users:

* the deploy gate (``ramparts.scan.deps``) turns each ``Problem`` into a
  high RP-D003 finding;
* the registry (``ramparts.registry.deps``) refuses to install a file with
  any ``Problem`` (whatever the gate's acceptances say) and keys its
  dependency cache on ``Inspection.digest``: the content of every file the
  install reads, local wheels and source trees included, not just the text
  of requirements.txt.

Requirement lines are parsed with ``packaging``; option lines follow pip's
own tokenising (comments, ``\\`` continuations, args before options).  What
this module does not recognise is a ``Problem``: fail closed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508

_COMMENT = re.compile(r"(^|\s+)#.*$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^(http|https|file):", re.I)
_ARCHIVES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")
_SDISTS = tuple(a for a in _ARCHIVES if a != ".whl")
_OPTION_NAME = re.compile(r"^--?[A-Za-z][A-Za-z-]{0,30}$")
_MAX_FILES = 64  # requirement files one install may read (includes of includes ...)

# option -> (takes a value, canonical name)
_OPTIONS: dict[str, tuple[bool, str]] = {
    "-i": (True, "--index-url"),
    "--index-url": (True, "--index-url"),
    "--extra-index-url": (True, "--extra-index-url"),
    "--no-index": (False, "--no-index"),
    "-c": (True, "--constraint"),
    "--constraint": (True, "--constraint"),
    "-r": (True, "--requirement"),
    "--requirement": (True, "--requirement"),
    "-e": (True, "--editable"),
    "--editable": (True, "--editable"),
    "-f": (True, "--find-links"),
    "--find-links": (True, "--find-links"),
    "--no-binary": (True, "--no-binary"),
    "--only-binary": (True, "--only-binary"),
    "--prefer-binary": (False, "--prefer-binary"),
    "--require-hashes": (False, "--require-hashes"),
    "--no-require-hashes": (False, "--no-require-hashes"),
    "--pre": (False, "--pre"),
    "--trusted-host": (True, "--trusted-host"),
    "--use-feature": (True, "--use-feature"),
    "--hash": (True, "--hash"),
    "-C": (True, "--config-settings"),
    "--config-settings": (True, "--config-settings"),
    "--global-option": (True, "--global-option"),
}
_Refuse = Callable[[str, str], None]
_HARMLESS = {"--only-binary", "--prefer-binary", "--require-hashes", "--no-require-hashes",
             "--pre", "--no-index", "--hash"}


@dataclass(frozen=True)
class InstallPolicy:
    """What the node lets a requirements file do.

    ``package_index`` is the one index the node's installer may reach; a file
    may name it (and no other).  ``allow_source_builds`` is the node setting
    (``ramparts up --allow-source-builds``) that lets local source trees,
    sdists and ``--no-binary`` through; without it pip installs wheels only.
    """

    package_index: str | None = None
    allow_source_builds: bool = False

    def index_allowed(self, url: str) -> bool:
        return self.package_index is not None and _norm_url(url) == _norm_url(self.package_index)


@dataclass(frozen=True)
class Problem:
    """One refused line: where, what kind, and why (never the content of a file)."""

    path: str  # the requirement file, relative to the scanned or installed root
    line: int
    kind: str  # include | index | url | source-build | option | env | unparsable
    message: str
    text: str  # the line, for the finding's fingerprint only (ids hash it; never shown)


@dataclass
class Inspection:
    problems: list[Problem] = field(default_factory=list)
    digest: str = ""  # over every file the install reads; "" when there are problems
    source_builds: bool = False  # some line builds from source (allowed by the policy)


def _norm_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def logical_lines(text: str) -> list[tuple[int, str]]:
    """pip's preprocessing: join ``\\`` continuations, drop comments and blank lines."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.endswith("\\") and not _COMMENT.match(raw):
            if not buf:
                start = number
            buf.append(raw[:-1])
            continue
        if buf:
            buf.append(raw)
            line, number = "".join(buf), start
            buf = []
        else:
            line = raw
        line = _COMMENT.sub("", line).strip()
        if line:
            out.append((number, line))
    if buf:
        line = _COMMENT.sub("", "".join(buf)).strip()
        if line:
            out.append((start, line))
    return out


def _split(line: str) -> tuple[str, list[tuple[str, str | None]]] | None:
    """(requirement part, [(canonical option, value)]); None if the options do not parse."""
    tokens = line.split(" ")
    args: list[str] = []
    while tokens and not tokens[0].startswith("-"):
        args.append(tokens.pop(0))
    try:
        words = shlex.split(" ".join(tokens))
    except ValueError:
        return None
    opts: list[tuple[str, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        name, value = word, None
        if word.startswith("--") and "=" in word:
            name, value = word.split("=", 1)
        elif not word.startswith("--") and len(word) > 2 and word[:2] in _OPTIONS:
            name, value = word[:2], word[2:]
        spec = _OPTIONS.get(name)
        if spec is None:
            opts.append((name if name.startswith("-") else "?", None))
            i += 1
            continue
        takes, canonical = spec
        if takes and value is None:
            if i + 1 >= len(words):
                return None
            value = words[i + 1]
            i += 1
        elif not takes and value is not None:
            return None
        opts.append((canonical, value))
        i += 1
    return " ".join(args).strip(), opts


class _Walker:
    """Reads a requirements file and what it includes, collecting problems and hashes."""

    def __init__(self, root: Path, policy: InstallPolicy, cwd: Path, scope: str) -> None:
        self.scope = scope  # how messages name ``root``
        self.root = root.resolve()
        self.policy = policy
        self.cwd = cwd.resolve()  # where pip runs: local requirement paths resolve here
        self.result = Inspection()
        self.files: dict[str, str] = {}  # rel -> sha256 of a requirement file read
        self.local: dict[str, str] = {}  # rel -> tree hash of a local source

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."

    def _inside(self, path: Path) -> Path | None:
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            return None
        if resolved == self.root or resolved.is_relative_to(self.root):
            return resolved
        return None

    def problem(self, rel: str, line: int, kind: str, message: str, text: str) -> None:
        self.result.problems.append(Problem(rel, line, kind, message, text))

    def walk(self, path: Path) -> None:
        rel = self._rel(path)
        if rel in self.files:
            return
        if len(self.files) >= _MAX_FILES:
            self.problem(rel, 1, "include", f"more than {_MAX_FILES} requirement files are "
                         "included", rel)
            return
        data = path.read_bytes()
        self.files[rel] = hashlib.sha256(data).hexdigest()
        text = data.decode("utf-8", "replace")
        for number, line in logical_lines(text):
            self._line(path, rel, number, line)

    def _line(self, path: Path, rel: str, number: int, line: str) -> None:
        def refuse(kind: str, message: str) -> None:
            self.problem(rel, number, kind, message, line)

        if "${" in line:
            refuse("env", "pip would expand ${VARIABLE} from the installer's environment; "
                   "write the value out")
            return
        split = _split(line)
        if split is None:
            refuse("unparsable", "the options of this line cannot be parsed")
            return
        arg, opts = split
        for name, value in opts:
            self._option(path, name, value, refuse)
        if arg:
            self._requirement(arg, refuse)

    def _option(self, path: Path, name: str, value: str | None, refuse: _Refuse) -> None:
        if name == "--only-binary" and value is not None and ":none:" in value:
            name = "--no-binary"  # clears the installer's --only-binary :all:
        if name in _HARMLESS:
            return
        if name in ("--requirement", "--constraint"):
            assert value is not None
            what = "-r" if name == "--requirement" else "-c"
            if _URL.match(value):
                refuse("include", f"{what} names a URL: include files of the app only")
                return
            target = self._inside(path.parent / value)
            if target is None:
                refuse("include", f"{what} names a file outside {self.scope}: include "
                       "files of the app only")
                return
            if not target.is_file():
                self.files[self._rel(target)] = "absent"  # pip says so, naming no content
                return
            self.walk(target)
            return
        if name in ("--index-url", "--extra-index-url"):
            assert value is not None
            if not self.policy.index_allowed(value):
                refuse("index", f"{name} names a package index other than the node's: the "
                       "node's operator chooses the index (ramparts up --package-index); "
                       "remove the option")
            return
        if name == "--find-links":
            assert value is not None
            if _URL.match(value) and not value.lower().startswith("file:"):
                refuse("url", "--find-links names a remote location: only the node's package "
                       "index is reachable; vendor the wheels into the app instead")
                return
            local = unquote(urlsplit(value).path) if value.lower().startswith("file:") else value
            target = self._inside(path.parent / local)
            if target is None or not target.is_dir():
                refuse("include", f"--find-links names a directory outside {self.scope}")
                return
            self.local[self._rel(target)] = _tree_hash(target)
            return
        if name == "--trusted-host":
            refuse("index", "--trusted-host turns off certificate checks for a host: remove it")
            return
        if name in ("--no-binary", "--config-settings", "--global-option"):
            if not self.policy.allow_source_builds:
                refuse("source-build", f"{name} builds from source, which runs the package's "
                       "build code at deploy; the node installs wheels only (start it with "
                       "--allow-source-builds to allow source builds)")
            else:
                self.result.source_builds = True
            return
        if name == "--editable":
            refuse("source-build", "-e (editable installs) cannot be deployed: list a wheel, "
                   "or a pinned requirement, instead")
            return
        # Named only when it looks like an option: a line is never quoted.
        label = repr(name) if _OPTION_NAME.match(name) else "(an argument after the options)"
        refuse("option", f"unsupported pip option {label} in a requirements file")

    def _requirement(self, arg: str, refuse: _Refuse) -> None:
        target = arg
        pep508 = "@" in arg and not _URL.match(arg)  # name @ url
        if pep508 or (not _URL.match(arg) and not _looks_like_path(arg)):
            try:
                req = Pep508(arg)
            except InvalidRequirement:
                refuse("unparsable", "not a requirement pip would install safely (PEP 508)")
                return
            if req.url is None:
                return
            target = req.url
        if _URL.match(target):
            if not target.lower().startswith("file:"):
                host = urlsplit(target).hostname or "?"
                refuse("url", f"installs from a URL on {host}: only the node's package index "
                       "is reachable; pin a release (name==X.Y.Z) or vendor the wheel")
                return
            target = unquote(urlsplit(target).path)
        target = re.sub(r"\[[^\]]*\]$", "", target)  # ./lib[extra]
        local = self._inside(self.cwd / target)
        if local is None:
            refuse("include", f"installs from a path outside {self.scope}")
            return
        if not local.exists():
            self.local[self._rel(local)] = "absent"  # pip reports it; nothing to build
            return
        self.local[self._rel(local)] = _tree_hash(local)
        if local.is_file() and local.name.endswith(".whl"):
            return
        if not self.policy.allow_source_builds:
            refuse("source-build", "builds a local source tree or sdist, which runs its "
                   "setup.py or build backend at deploy; the node installs wheels only (ship a "
                   "wheel, or start the node with --allow-source-builds)")
            return
        self.result.source_builds = True


def _looks_like_path(arg: str) -> bool:
    """pip's test: a separator or a leading dot, or an archive's file name."""
    return "/" in arg or arg.startswith(".") or arg.lower().endswith(_ARCHIVES)


def _tree_hash(path: Path) -> str:
    """sha256 over a file, or over (path, content, executable bit) of a tree."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    h = hashlib.sha256()
    for dirpath, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            f = Path(dirpath) / name
            if f.is_symlink() or not f.is_file():
                continue
            mark = b"x" if os.access(f, os.X_OK) else b"-"
            rel = f.relative_to(path).as_posix().encode()
            h.update(rel + b"\0" + mark + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def inspect(requirements: Path, root: Path, policy: InstallPolicy) -> Inspection:
    """Classify every line ``requirements`` makes pip read, below ``root``.

    Local requirement paths resolve against the file's own directory (where
    the installer runs pip), includes against the including file, as pip
    does.  ``digest`` covers every requirement file read and every local
    source named (its bytes, or its tree), so two apps whose files say the
    same ``./lib`` never share an install.
    """
    scope = (
        "the requirements file's directory (all the installer can see)"
        if root.resolve() == requirements.parent.resolve()
        else "the app"
    )
    walker = _Walker(root, policy, requirements.parent, scope)
    start = walker._inside(requirements)
    if start is None:
        walker.problem(requirements.name, 1, "include", "the requirements file is outside "
                       "the app", requirements.name)
        return walker.result
    walker.walk(start)
    if not walker.result.problems:
        doc = {"files": walker.files, "local": walker.local}
        walker.result.digest = hashlib.sha256(
            json.dumps(doc, sort_keys=True).encode()
        ).hexdigest()
    return walker.result


def inspect_text(text: str, rel: str, root: Path, policy: InstallPolicy) -> list[Problem]:
    """The gate's view of one requirements file found anywhere in the app tree."""
    path = root / rel
    walker = _Walker(root, policy, path.parent, "the app")
    walker.files[rel] = hashlib.sha256(text.encode()).hexdigest()  # includes are walked too
    for number, line in logical_lines(text):
        walker._line(path, rel, number, line)
    return walker.result.problems


__all__ = ["InstallPolicy", "Inspection", "Problem", "inspect", "inspect_text", "logical_lines"]
