"""Dependencies: what the app pins, and which pins have known advisories.

Reads every dependency file a Python app ships (``requirements*.txt``,
``pyproject.toml``, ``poetry.lock``, ``uv.lock``, ``Pipfile.lock``) into one
list of ``Requirement`` rows, then asks an advisory source (``advisories/``)
about the exactly pinned ones.  Three rules come out of it:

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

The package: ``parse.py`` reads each kind of dependency file into
``Requirement`` rows, ``ranges.py`` has the version-range arithmetic a range is
matched with, ``files.py`` finds the dependency files of a tree and follows
their ``-r``/``-c`` includes (and reports RP-D003), and ``check.py`` matches the
rows against an advisory source (RP-D001, RP-D002).
"""

from __future__ import annotations

from ramparts.scan.deps.check import RULES, scan
from ramparts.scan.deps.files import collect
from ramparts.scan.deps.parse import LOCK_FILES, Requirement, parse_requirements_txt

__all__ = ["LOCK_FILES", "RULES", "Requirement", "collect", "parse_requirements_txt", "scan"]
