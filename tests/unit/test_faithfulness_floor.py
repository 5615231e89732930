"""The claim check on the held-out (test) split of the labelled faithfulness set must not fall below a floor."""

from __future__ import annotations

from collections import Counter

from eval.faithfulness_eval import evaluate, load

# The targets are 0.95 (rejects) and 0.80 (accepts). Measured on the test split (never tuned on item by
# item): with 150 more labelled model sentences (580 in all) rejects 0.860 (184/214), accepts 0.877 (64/73); dev:
# 0.949 and 0.961. (Before the structure checks, on the same 580: test 0.832 / 0.877, dev 0.917 / 0.896.) The floors
# sit a little below what is reached, so a change that loses ground fails; raise them as the check improves.
REJECT_FLOOR = 0.84  # share of unsupported sentences the check rejects (target 0.95: not reached yet)
ACCEPT_FLOOR = 0.87  # share of supported sentences it accepts (target 0.80)


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
    old = evaluate("test")["overlap_check"]
    assert result["reject_recall"] > old["reject_recall"] + 0.3 and result["accept_recall"] > old["accept_recall"]
