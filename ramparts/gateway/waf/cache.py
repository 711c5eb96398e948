"""Compiled WAFs per app version, and the deploy-time check of an app's ``waf:`` section.

The gateway asks ``WafCache.for_function`` on every request; the first
request that needs an app's WAF builds it (the default rules are compiled
once per process and shared), later ones get it from the cache.  A version's
``waf:`` section and rule files cannot change (a change is a new version with
a new code dir), so entries never go stale; the cache is bounded so retired
sections fall out.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path

from ramparts.gateway.waf.engine import Waf, compile_exclusion
from ramparts.gateway.waf.rules import Rule, WafRuleError, default_rules, load_app_rules
from ramparts.manifest import Manifest, WafConfig
from ramparts.registry.service import LiveFunction


def build_waf(config: WafConfig, app_dir: Path | None) -> Waf:
    """The WAF an app's ``waf:`` section describes; its rule files are read from ``app_dir``.

    Raises ``WafRuleError`` naming the file and field when a rule file is bad,
    or when ``disable`` or an exclusion names a rule or category that does not exist
    (a typo there would silently keep a false positive or switch nothing off).
    """
    extra: list[Rule] = []
    if config.rules:
        if app_dir is None:
            raise WafRuleError("ramparts.yaml", [("waf.rules", "rule files need the app dir")])
        extra = load_app_rules(app_dir, config.rules)
    ids = {r.id for r in default_rules()}
    for i, rule in enumerate(extra):
        if rule.id in ids:
            raise WafRuleError(
                rule.source, [(f"rules[{i}].id", f"{rule.id!r} is already a rule's id")]
            )
        ids.add(rule.id)
    known = ids | {r.category for r in (*default_rules(), *extra)}
    for i, name in enumerate(config.disable):
        if name not in known:
            raise WafRuleError(
                "ramparts.yaml", [(f"waf.disable[{i}]", f"{name!r} is not a rule id or category")]
            )
    exclusions = []
    for i, ex in enumerate(config.exclusions):
        for j, name in enumerate(ex.rules):
            if name not in known:
                raise WafRuleError(
                    "ramparts.yaml",
                    [(f"waf.exclusions[{i}].rules[{j}]", f"{name!r} is not a rule id or category")],
                )
        exclusions.append(compile_exclusion(ex.route, ex.field, ex.rules))
    return Waf(
        threshold=config.threshold,
        disable=config.disable,
        exclusions=exclusions,
        extra_rules=extra,
    )


def validate_app(app_dir: Path, manifest: Manifest) -> None:
    """Deploy-time check (a registry app check): the app's WAF section builds."""
    build_waf(manifest.waf, app_dir)


class WafCache:
    """Compiled WAFs by the app's ``waf:`` section, least recently used out beyond ``max_entries``.

    Keyed by the app, the section's content and (when it names rule files) the
    version's code dir, so the functions of one app deployed together share one
    ``Waf`` (and its memo of short values), and a redeploy that changes the
    section gets a new one.
    """

    def __init__(self, max_entries: int = 128) -> None:
        self._entries: OrderedDict[tuple[str, str, str], Waf] = OrderedDict()
        self._versions: OrderedDict[tuple[str, str], Waf] = OrderedDict()  # the fast path
        self._max = max_entries
        self._lock = threading.Lock()

    def for_function(self, fn: LiveFunction) -> Waf:
        version = (fn.app, fn.version)
        waf = self._versions.get(version)  # a version's section never changes
        if waf is None:
            waf = self._build(fn)
            with self._lock:
                self._versions[version] = waf
                while len(self._versions) > 8 * self._max:
                    self._versions.popitem(last=False)
        return waf

    def _build(self, fn: LiveFunction) -> Waf:
        config = fn.waf
        key = (
            fn.app,
            json.dumps(config.model_dump(mode="json"), sort_keys=True),
            str(fn.spec.code_dir) if config.rules else "",
        )
        with self._lock:
            waf = self._entries.get(key)
            if waf is not None:
                self._entries.move_to_end(key)
                return waf
        waf = build_waf(config, Path(fn.spec.code_dir))
        with self._lock:
            self._entries[key] = waf
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return waf
