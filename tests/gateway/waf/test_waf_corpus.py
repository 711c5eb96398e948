"""The default rules meet their targets on the tuning corpus (fails when rules regress).

Rates are computed from the corpus files, not timed; bench/waf_corpus.py
prints the same numbers per category and kind.
"""

from __future__ import annotations

from pathlib import Path

from ramparts.gateway.waf.corpus import evaluate, load
from ramparts.gateway.waf.engine import Waf

TUNING = Path(__file__).resolve().parent.parent / "waf_corpora" / "tuning"


def test_tuning_corpus_detection_and_false_positive_rates() -> None:
    waf = Waf()
    attacks = evaluate(waf, load(TUNING / "attacks.jsonl"), attacks=True)
    benign = evaluate(waf, load(TUNING / "benign.jsonl"), attacks=False)
    assert sum(attacks.total.values()) >= 800 and sum(benign.total.values()) >= 1500
    missed = [item for item, _ in attacks.wrong]
    blocked = [item for item, _ in benign.wrong]
    assert attacks.rate() >= 0.95, missed
    assert benign.rate() <= 0.01, blocked
    for category in attacks.total:  # no category carried by the others
        assert attacks.rate(category) >= 0.9, (category, missed)
