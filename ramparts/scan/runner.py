"""The per-file scanner families, run across cores and through the result cache.

Bandit, detect-secrets and the logic checks (``logic/``) judge one file at a
time and are most of a scan's cost, so ``start`` first looks every (file,
family) pair up in the cache (``cache.py``), then scans the misses: in this
process, or, when the gate asks for it and there are enough of them, in worker
processes (``python -m ramparts.scan.runner``), one per core.  The gate runs
the cross-file families (taint, templates, dependencies) in the meantime and
collects the result with ``Pending.result``.

Workers are started with ``subprocess`` (fork+exec, safe in a process that
runs threads, unlike a bare fork).  Files go out in small batches, biggest
first, to whichever worker is free, one JSON line per batch on stdin, and come
back as one JSON line on stdout (no pickle).  Fail closed: a worker that dies, exits
non-zero, answers garbage or leaves a file out makes the scan raise
``ScannerFailed``; nothing is cached from a failed scan.

A new per-file family plugs in with one line in ``FAMILIES``.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ramparts.scan import depth, logic, sast, secret_prefilter
from ramparts.scan import secrets as secrets_scan
from ramparts.scan.cache import ScanCache, digest_name, source_digest
from ramparts.scan.errors import ScannerFailed
from ramparts.scan.findings import Finding, Rule, from_rows, rows_well_formed, to_rows
from ramparts.scan.pyparse import Unparsable, parse_python
from ramparts.scan.source import SourceFile, SourceTree

MIN_FILES_PER_WORKER = 16  # fewer misses than this: a worker's start-up costs more than it saves
BATCH_FILES = 8  # a batch ends at this many files or this much text, whichever comes first
BATCH_CHARS = 64_000

Scan = Callable[[SourceFile], tuple[list[Finding], list[Rule]]]


@dataclass(frozen=True)
class FileFamily:
    """A scanner that judges each file on its own (so its results can be cached)."""

    name: str
    applies: Callable[[SourceFile], bool]
    scan: Scan
    packages: tuple[str, ...]  # whose versions invalidate cached results
    modules: tuple[Any, ...]  # whose source (our rule configuration) invalidates them


def _bandit(sf: SourceFile) -> tuple[list[Finding], list[Rule]]:
    return sast.run(SourceTree(sf.path.parent, [sf]))


def _secrets(sf: SourceFile) -> tuple[list[Finding], list[Rule]]:
    return secrets_scan.run(SourceTree(sf.path.parent, [sf])), []


def _logic(sf: SourceFile) -> tuple[list[Finding], list[Rule]]:
    """The logic checks read one module each; a file too deep for them is RP-G004."""
    return depth.run_whole_tree(logic.run, SourceTree(sf.path.parent, [sf]), "logic"), []


def _code(sf: SourceFile) -> bool:
    return sf.is_python and sf.parses


FAMILIES: tuple[FileFamily, ...] = (
    # bandit's severities are re-rated by calibrate, which asks the taint engine (proof),
    # and its CWEs renumbered by cwe
    FileFamily("bandit", _code, _bandit, ("bandit",),
               (sast, "ramparts.scan.calibrate", "ramparts.scan.cwe",
                "ramparts.scan.logic.context", "ramparts.scan.taint")),
    FileFamily("secrets", lambda sf: sf.text is not None, _secrets,
               ("detect-secrets",), (secrets_scan, secret_prefilter)),
    FileFamily("logic", _code, _logic, (), (logic, depth)),
)


@cache
def family_version(name: str) -> str:
    """Package versions plus a hash of the modules that make and map the family's results."""
    fam = _family(name)
    parts = [f"{p}=={metadata.version(p)}" for p in (*fam.packages, "ramparts")]
    # and ours that every family's results pass through: this module, the file model, the rows
    parts.append(source_digest(*fam.modules, sys.modules[__name__], "ramparts.scan.source",
                               "ramparts.scan.findings"))
    parts.append(f"python{sys.version_info.major}.{sys.version_info.minor}")
    return "|".join(parts)


class Pending:
    """Per-file results on their way: cached ones, in-process ones, or workers' answers."""

    def __init__(self, findings: list[Finding], rules: dict[str, Rule],
                 jobs: list[_WorkerJob], store: Callable[[dict[str, Any]], None],
                 wanted: set[str]) -> None:
        self._findings, self._rules, self._jobs, self._store = findings, rules, jobs, store
        self._wanted = wanted  # a worker answers every family of a file; some were cached

    def result(self) -> tuple[list[Finding], list[Rule]]:
        answers = [job.wait() for job in self._jobs]  # all or nothing: cache only a whole scan
        for answer in answers:
            for key, entry in answer.items():
                if key not in self._wanted:
                    continue
                self._store({key: entry})
                self._add(entry)
        self._jobs = []
        return self._findings, list(self._rules.values())

    def close(self) -> None:
        """Stop any worker still running (the scan failed elsewhere)."""
        for job in self._jobs:
            job.kill()

    def _add(self, entry: dict[str, Any]) -> None:
        self._findings += from_rows(entry["findings"])
        for r in entry["rules"]:
            self._rules.setdefault(r[0], Rule(*r))


def start(tree: SourceTree, cache: ScanCache | None, parallel: bool) -> Pending:
    """Look up the cache, then scan the misses (in workers when ``parallel`` and worth it)."""
    todo: dict[str, tuple[FileFamily, SourceFile]] = {}
    found: list[dict[str, Any]] = []
    keys: dict[str, str] = {}  # (rel\0family) -> cache entry name
    for sf in tree.files:
        for fam in FAMILIES:
            if not fam.applies(sf):
                continue
            assert sf.text is not None
            name = digest_name(fam.name, family_version(fam.name), sf.rel, sf.digest)
            key = f"{sf.rel}\0{fam.name}"
            keys[key] = name
            hit = cache.get(name) if cache is not None else None
            if _well_formed(hit):
                found.append(hit)
            else:
                todo[key] = (fam, sf)

    def store(entries: dict[str, Any]) -> None:
        if cache is not None:
            for key, entry in entries.items():
                cache.put(keys[key], entry)

    pending = Pending([], {}, [], store, set(todo))
    for entry in found:
        pending._add(entry)
    files = list({sf.rel: sf for _, sf in todo.values()}.values())
    workers = min(os.cpu_count() or 1, len(files) // MIN_FILES_PER_WORKER) if parallel else 0
    if workers < 2:
        for key, (fam, sf) in todo.items():
            fs, rs = fam.scan(sf)
            entry = _encode(fs, rs)
            store({key: entry})
            pending._add(entry)
        return pending
    batches: queue.SimpleQueue[list[SourceFile]] = queue.SimpleQueue()
    for batch in _batches(files):
        batches.put(batch)
    stop = threading.Event()
    for _ in range(workers):
        pending._jobs.append(_WorkerJob.launch(batches, stop))
    return pending


def _batches(files: list[SourceFile]) -> list[list[SourceFile]]:
    """Small batches, biggest files first: whoever is free takes the next one.

    Handing work out as workers free up (rather than splitting it up front)
    keeps one worker from running long after the other has finished, and
    biggest-first leaves only small batches for the end.
    """
    out: list[list[SourceFile]] = []
    batch: list[SourceFile] = []
    size = 0
    for sf in sorted(files, key=lambda f: -len(f.text or "")):
        batch.append(sf)
        size += len(sf.text or "")
        if len(batch) >= BATCH_FILES or size >= BATCH_CHARS:
            out.append(batch)
            batch, size = [], 0
    if batch:
        out.append(batch)
    return out


class _WorkerJob:
    """One worker process and the thread that hands it batches and reads its answers.

    The protocol is one JSON document per line each way: ``{"files": [...]}``
    in, ``{"results": {...}}`` out.  Any failure (death, garbage, a file left
    out, a non-zero exit) stops every worker of the scan and fails it closed.
    """

    COMMAND = (sys.executable, "-m", "ramparts.scan.runner")

    def __init__(self, proc: subprocess.Popen[bytes],
                 batches: queue.SimpleQueue[list[SourceFile]], stop: threading.Event) -> None:
        self.proc, self._batches, self._stop = proc, batches, stop
        self._results: dict[str, Any] = {}
        self._error: str | None = None
        self._thread = threading.Thread(target=self._talk, daemon=True)
        self._thread.start()

    @classmethod
    def launch(cls, batches: queue.SimpleQueue[list[SourceFile]],
               stop: threading.Event) -> _WorkerJob:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            list(cls.COMMAND), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return cls(proc, batches, stop)

    def _talk(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            while not self._stop.is_set():
                try:
                    share = self._batches.get_nowait()
                except queue.Empty:
                    break
                self._exchange(share)
            self.proc.stdin.close()
            if self.proc.wait() != 0:
                self._fail(f"exit status {self.proc.returncode}")
        except BaseException as exc:  # noqa: BLE001 - reported by wait()
            self._fail(self._error or exc.__class__.__name__)

    def _exchange(self, share: list[SourceFile]) -> None:
        """Send one batch, read its answer, and check it covers exactly that batch."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        expected = {f"{sf.rel}\0{fam.name}" for sf in share for fam in FAMILIES
                    if fam.applies(sf)}
        payload = json.dumps({"files": [[sf.rel, str(sf.path), sf.text] for sf in share]},
                             ensure_ascii=False).encode("utf-8", "surrogatepass")
        self.proc.stdin.write(payload + b"\n")
        self.proc.stdin.flush()
        try:
            doc = json.loads(self.proc.stdout.readline())
        except ValueError:
            doc = {}
        results = doc.get("results") if isinstance(doc, dict) else None
        if not isinstance(results, dict) or set(results) != expected \
                or not all(_well_formed(e) for e in results.values()):
            why = doc.get("error") if isinstance(doc, dict) and doc.get("error") else None
            self._error = str(why or "a malformed answer")
            raise ScannerFailed(self._error)
        self._results.update(results)

    def _fail(self, why: str) -> None:
        self._error = why
        self._stop.set()
        if self.proc.poll() is None:
            self.proc.kill()

    def wait(self) -> dict[str, Any]:
        self._thread.join()
        if self._error is None and self._stop.is_set():
            self._error = "another worker failed"
        if self._error is not None:
            raise ScannerFailed(f"a per-file scanner worker failed ({self._error}); "
                                "the gate fails closed")
        return self._results

    def kill(self) -> None:
        self._stop.set()
        if self.proc.poll() is None:
            self.proc.kill()
        self._thread.join()


def _well_formed(entry: Any) -> bool:
    return (isinstance(entry, dict) and rows_well_formed(entry.get("findings"))
            and isinstance(entry.get("rules"), list)
            and all(isinstance(r, list) and len(r) == 5 for r in entry["rules"]))


def _encode(findings: list[Finding], rules: list[Rule]) -> dict[str, Any]:
    return {
        "findings": to_rows(findings),
        "rules": [[r.rule_id, r.family, r.name, r.description, r.cwe] for r in rules],
    }


def _family(name: str) -> FileFamily:
    return next(f for f in FAMILIES if f.name == name)


def _work(doc: dict[str, Any]) -> dict[str, Any]:
    """A worker's job: every family over every file it was given."""
    results: dict[str, Any] = {}
    for rel, path, text in doc["files"]:
        sf = SourceFile(rel, Path(path), text)
        if sf.is_python:  # parsed as source.py does, so bandit sees the same trees
            try:
                parsed = parse_python(text, filename=rel)
                sf.tree, sf.newer_grammar = parsed.tree, parsed.newer_grammar
            except Unparsable:
                pass  # the parent reports it (RP-G001); bandit skips it, as in process
        for fam in FAMILIES:
            if fam.applies(sf):
                results[f"{rel}\0{fam.name}"] = _encode(*fam.scan(sf))
    return results


def _main() -> int:  # pragma: no cover - runs in the worker process
    """Answer one JSON line per request line until stdin closes."""
    out = sys.stdout.buffer
    try:
        for raw in iter(sys.stdin.buffer.readline, b""):
            doc = json.loads(raw.decode("utf-8", "surrogatepass"))
            out.write(json.dumps({"results": _work(doc)}).encode() + b"\n")
            out.flush()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails closed
        out.write(json.dumps({"error": exc.__class__.__name__}).encode() + b"\n")
        out.flush()
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
