"""A conservative line prefilter in front of detect-secrets.

detect-secrets runs every plugin and every line filter over every line of a
file; most lines of code cannot match any plugin, and the per-line Python
overhead (about thirty plugin calls plus filters) dominates a cold scan.

``scan_file`` does what ``detect_secrets.core.scan.scan_file`` does (the same
transformers, the same eager second pass, the same filters, the same code
snippet around each line, so line numbers and context are unchanged) but hands
a line to the plugins only if one of the plugins' own patterns can match it:

- regex plugins (AWS, GitHub, private keys, JWT, ...): their ``denylist``;
- the keyword plugin: every keyword regex of every file type;
- the entropy plugins: their quoted-string regex, narrowed to strings long
  enough to pass the plugin's entropy limit (a string of n characters has at
  most log2(n) bits of entropy per character).

Each of those is a necessary condition for the plugin to report anything on the
line, so skipping a line that matches none of them cannot drop a finding.  A
plugin this module does not know (a new detect-secrets version, a custom plugin)
turns the prefilter off: every line is scanned, as before (fail closed).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

_QUOTED_SHAPE = r"""(['"])[{charset}]{{{least},}}\1"""


def _plugin_patterns(plugin: Any) -> list[re.Pattern[str]] | None:
    """The patterns one of which must match a line for ``plugin`` to report on it."""
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.jwt import JwtTokenDetector

    cls = type(plugin)
    if isinstance(plugin, keyword.KeywordDetector) and cls is keyword.KeywordDetector:
        tables = [*keyword.REGEX_BY_FILETYPE.values(),
                  keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP]
        return list(dict.fromkeys(rx for table in tables for rx in table))
    if isinstance(plugin, HighEntropyStringsPlugin) and (
        cls.analyze_string is HighEntropyStringsPlugin.analyze_string
        and cls.analyze_line is HighEntropyStringsPlugin.analyze_line
    ):
        # reported only if entropy > limit, and entropy <= log2(len): len > 2**limit
        least = max(1, math.floor(2 ** plugin.entropy_limit))
        shape = _QUOTED_SHAPE.format(charset=re.escape(plugin.charset), least=least)
        return [re.compile(shape)]
    known_string = cls.analyze_string in (RegexBasedDetector.analyze_string,
                                          JwtTokenDetector.analyze_string)
    if isinstance(plugin, RegexBasedDetector) and known_string and (
        cls.analyze_line is RegexBasedDetector.analyze_line
    ):
        return list(plugin.denylist)
    return None


def line_gate(plugins: Iterable[Any] | None = None) -> list[re.Pattern[str]] | None:
    """Every plugin's necessary patterns, or None if some plugin is not understood.

    ``plugins`` defaults to the ones detect-secrets' current settings enable.
    """
    from detect_secrets.settings import get_plugins

    patterns: list[re.Pattern[str]] = []
    for plugin in get_plugins() if plugins is None else plugins:
        own = _plugin_patterns(plugin)
        if own is None:
            return None
        patterns.extend(own)
    return list(dict.fromkeys(patterns))


def could_match(line: str, gate: list[re.Pattern[str]] | None) -> bool:
    """True if some plugin might report on ``line`` (always True without a gate)."""
    if gate is None:
        return True
    line = line.rstrip()
    return any(rx.search(line) for rx in gate)


def scan_file(filename: str) -> Iterator[Any]:
    """``detect_secrets.core.scan.scan_file`` with the line gate in front of the plugins."""
    from detect_secrets.core import scan as ds_scan
    from detect_secrets.settings import get_plugins

    if not get_plugins():
        return
    if ds_scan._is_filtered_out(required_filter_parameters=["filename"], filename=filename):
        return
    gate = line_gate()
    try:
        for lines in ds_scan._get_lines_from_file(filename):
            found = False
            for secret in _scan_lines(lines, filename, gate):
                found = True
                yield secret
            if found:
                break
    except OSError:
        return


def _scan_lines(lines: list[str], filename: str, gate: list[re.Pattern[str]] | None
                ) -> Iterator[Any]:
    """detect-secrets' per-line loop over the gated lines; snippets use every line."""
    from detect_secrets.core import scan as ds_scan
    from detect_secrets.settings import get_plugins
    from detect_secrets.util.code_snippet import get_code_snippet

    plugins = get_plugins()
    for line_number, raw in enumerate(lines, start=1):
        if not could_match(raw, gate):
            continue
        line = raw.rstrip()
        snippet = get_code_snippet(lines=lines, line_number=line_number)
        if ds_scan._is_filtered_out(required_filter_parameters=["line"], filename=filename,
                                    line=line, context=snippet):
            continue
        for plugin in plugins:
            for secret in ds_scan._scan_line(plugin=plugin, filename=filename, line=line,
                                             line_number=line_number, context=snippet):
                if not ds_scan._is_filtered_out(
                        required_filter_parameters=["context"], filename=secret.filename,
                        secret=secret.secret_value, plugin=plugin, line=line,
                        context=snippet):
                    yield secret
