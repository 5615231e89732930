"""The claim check on the held-out (test) split of the labelled faithfulness set: the issue's targets as a floor."""

from __future__ import annotations

from collections import Counter

from eval.faithfulness_eval import evaluate, load

REJECT_FLOOR = 0.95  # share of unsupported sentences the check rejects
ACCEPT_FLOOR = 0.80  # share of supported sentences it accepts


def test_labelled_set_is_large_and_mixed() -> None:
    items = load(split="all")
    models = Counter(i["model"] for i in items if i["model"] != "hand")
    assert sum(models.values()) >= 200 and len(models) >= 2
    assert {i["dataset"] for i in items} == {"demo", "exc"}
    assert all(i["label"] in ("supported", "unsupported") and i["reason"] and i["split"] in ("dev", "test") for i in items)
    assert all(any(f"[{k}]" in i["sentence"] for k in i["sources"]) for i in items)


def test_claim_check_meets_the_floor_on_the_test_split() -> None:
    result = evaluate("test")["claim_check"]
    assert result["reject_recall"] >= REJECT_FLOOR, result
    assert result["accept_recall"] >= ACCEPT_FLOOR, result
