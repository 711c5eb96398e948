"""YAML read for user files (``ramparts.yaml``, baselines) without constructor crashes.

PyYAML's safe loader turns an unquoted ``2026-13-45`` into a date and raises a
bare ``ValueError`` (no line, no field) when the date does not exist, so a
typo in ``timeout:`` or ``expires:`` became a traceback on the CLI and a 500
on the node.  Here such a scalar stays the string it was written as; the
schema check that follows then names the file and the field it is wrong in.
"""

from __future__ import annotations

from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """SafeLoader whose timestamps that are not real dates stay strings."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load(text: str) -> Any:
    """``yaml.safe_load`` that never raises for a scalar's value (only for YAML syntax).

    ``yaml.YAMLError`` for bad syntax and ``RecursionError`` for nesting too
    deep still reach the caller, which names the file.
    """
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
