"""Render a shipped template into a new app directory.

Template files end in ``.tmpl`` so that the package's own tooling (import
checks, linters, pytest) never mistakes them for ramparts code; the suffix is
dropped on the way out and ``{{app}}`` becomes the app's name.  The name is
checked with the manifest's own rule, so an app that ``init`` writes is one
``deploy`` accepts.  Nothing is written over: a target that exists and is not
empty is refused, and a failure half-way removes what this run created.
"""

from __future__ import annotations

import shutil
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from ramparts.errors import RampartsError

TEMPLATES = ("http-api", "queue-worker", "webhook", "scheduled")
_SUFFIX = ".tmpl"
_PLACEHOLDER = "{{app}}"


class StarterError(RampartsError):
    """Bad input to ``init``: ``field`` names what was wrong (NAME, --template, --dir)."""

    code = "invalid_init"
    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def create_app(name: str, template: str, target: Path) -> list[Path]:
    """Write template ``template`` for app ``name`` into ``target``; the files written.

    Raises ``StarterError`` for a bad name or template or a target that is not
    an empty (or missing) directory.
    """
    from ramparts.manifest import NAME_RE  # pydantic: loaded when an app is made, not at start

    if not NAME_RE.fullmatch(name):
        raise StarterError(
            "NAME",
            f"{name!r} is not an app name (1 to 63 lowercase letters, digits and '-', "
            "starting with a letter or digit)",
        )
    if template not in TEMPLATES:
        raise StarterError(
            "--template", f"{template!r} is not a template; use one of {', '.join(TEMPLATES)}"
        )
    _check_target(target)
    created = not target.exists()
    written: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        _copy(resources.files("ramparts.starter") / "templates" / template, target, name, written)
    except OSError as exc:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for path in written:
                path.unlink(missing_ok=True)
        raise StarterError("--dir", f"{target}: cannot write ({exc.strerror})") from exc
    return sorted(written)


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise StarterError("--dir", f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise StarterError(
            "--dir", f"{target} exists and is not empty; init never writes over files"
        )


def _copy(source: Traversable, dest: Path, name: str, written: list[Path]) -> None:
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if entry.name == "__pycache__":
                continue
            sub = dest / entry.name
            sub.mkdir(exist_ok=True)
            _copy(entry, sub, name, written)
        elif entry.name.endswith(_SUFFIX):
            out = dest / entry.name.removesuffix(_SUFFIX)
            text = entry.read_text(encoding="utf-8").replace(_PLACEHOLDER, name)
            with out.open("x", encoding="utf-8") as fh:  # never over an existing file
                fh.write(text)
            written.append(out)
