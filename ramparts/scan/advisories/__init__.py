"""OSV advisories for PyPI packages: where they come from and how a version matches.

The dependency scanner (``deps/``) asks one question of this package: "which
advisories affect these (package, version) pairs?".  Three sources answer it,
behind one small contract:

* ``LocalAdvisories``: an offline OSV directory (the layout of
  pypa/advisory-database: ``vulns/<package>/<ID>.yaml``, or any tree of OSV
  ``.json``/``.yaml`` files) or an OSV export zip (``PyPI/all.zip``).  This is
  what ``--advisories PATH`` and ``ramparts advisories sync`` give; it is the
  only source that works without a network.
* ``OsvApi``: https://api.osv.dev (``/v1/querybatch`` then ``/v1/vulns/ID``),
  used when nothing local is configured and the network allows.
* nothing: the scan then carries an "advisories unavailable" note; it never
  crashes and never pretends a dependency was checked.

Matching follows the OSV schema with ``packaging`` version semantics: an
``ECOSYSTEM`` range's events are sorted, ``introduced`` opens, ``fixed``
closes (exclusive) and ``last_affected`` closes (inclusive); a version named
in ``versions`` is affected too.  ``GIT`` ranges say nothing about a PyPI
release and are ignored.  Withdrawn advisories are skipped.

The package: ``records.py`` reads OSV records into ``Advisory`` rows and
decides whether a version is affected; ``sources.py`` has the sources that
answer (``LocalAdvisories``, ``OsvApi``), ``open_source`` and ``sync``.
"""

from __future__ import annotations

from ramparts.scan.advisories.records import Advisory, Pin, parse_record
from ramparts.scan.advisories.sources import (
    API_TIMEOUT,
    ENV_VAR,
    MAX_API_VULNS,
    OSV_API,
    OSV_EXPORT,
    SYNC_FILE,
    AdvisoriesUnavailable,
    AdvisorySource,
    LocalAdvisories,
    OsvApi,
    open_source,
    sync,
)

__all__ = ["API_TIMEOUT", "ENV_VAR", "MAX_API_VULNS", "OSV_API", "OSV_EXPORT", "SYNC_FILE",
           "AdvisoriesUnavailable", "Advisory", "AdvisorySource", "LocalAdvisories", "OsvApi",
           "Pin", "open_source", "parse_record", "sync"]
