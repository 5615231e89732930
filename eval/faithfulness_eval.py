"""How well the claim check separates supported from unsupported sentences on the labelled faithfulness set.

    python -m eval.faithfulness_eval [--split test|dev|fresh|fresh7…fresh19|all] [--json]

Reports, next to the old word-overlap check: the share of unsupported sentences rejected (recall of
"unsupported"), the share of supported sentences accepted, and the precision of each verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from sdi.drafting.checker import CODE, DATE, GENERIC, PART, WORD, Verdict, _numbers, check_sentence, cited_text
from sdi.errors import SdiError

LABELLED = Path(__file__).resolve().parent / "faithfulness" / "labelled.jsonl"
# fresh…: batches b6–b16, labelled blind (see faithfulness/LABELLING.md).
SPLITS = ("test", "dev", "fresh", *(f"fresh{n}" for n in range(7, 20)), "all")


def check_sentence_overlap(sentence: str, sources: dict[str, str], min_support: float = 0.5) -> Verdict:
    """The previous check (ids, verbatim numbers/dates/codes, >= half the specific words overlap), for comparison."""
    parts = cited_text(sentence, sources)
    if isinstance(parts, Verdict):
        return parts
    cites, body, cited = parts
    for pattern, label in ((DATE, "date"), (CODE, "code"), (PART, "part number")):
        for token in pattern.findall(body):
            if token not in cited:
                return Verdict(False, cites, f"{label} {token} is not in {', '.join(cites)}")
    scrubbed = PART.sub(" ", CODE.sub(" ", DATE.sub(" ", body)))
    known = _numbers(PART.sub(" ", CODE.sub(" ", DATE.sub(" ", cited)))) | _numbers(cited)
    for number in _numbers(scrubbed):
        if number not in known:
            return Verdict(False, cites, f"number {number} is not in {', '.join(cites)}")
    specific = [w.lower() for w in WORD.findall(body) if w.lower() not in GENERIC]
    if specific:
        cited_lower = cited.lower()
        if sum(1 for w in specific if w[:5] in cited_lower) / len(specific) < min_support:
            return Verdict(False, cites, "words not supported by the sources")
    return Verdict(True, cites)


def load(path: Path = LABELLED, split: str = "all") -> list[dict[str, Any]]:
    """The labelled items of one split."""
    if split not in SPLITS:
        raise SdiError(f"unknown split {split!r}", f"use one of: {', '.join(SPLITS)}")
    if not path.is_file():
        raise SdiError(f"labelled set not found: {path}", "run from a checkout that has eval/faithfulness/")
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i for i in items if split == "all" or i["split"] == split]


def score(items: list[dict[str, Any]], check: Callable[[str, dict[str, str]], Verdict]) -> dict[str, Any]:
    """Confusion counts and rates of one check over labelled items."""
    tp = fn = tn = fp = 0  # "positive" = rejected; tp = unsupported rejected
    for item in items:
        ok = check(item["sentence"], item["sources"]).ok
        if item["label"] == "unsupported":
            tp, fn = tp + (not ok), fn + ok
        else:
            tn, fp = tn + ok, fp + (not ok)
    rate = lambda a, b: round(a / b, 3) if b else None  # noqa: E731
    return {"unsupported": tp + fn, "supported": tn + fp, "rejected_unsupported": tp, "accepted_supported": tn,
            "reject_recall": rate(tp, tp + fn), "reject_precision": rate(tp, tp + fp),
            "accept_recall": rate(tn, tn + fp), "accept_precision": rate(tn, tn + fn)}


def evaluate(split: str = "test", path: Path = LABELLED) -> dict[str, Any]:
    """Claim check and the old overlap check on one split."""
    items = load(path, split)
    return {"split": split, "items": len(items), "claim_check": score(items, check_sentence),
            "overlap_check": score(items, check_sentence_overlap)}


def render(result: dict[str, Any]) -> str:
    """A small text table."""
    rows = [("unsupported rejected", "reject_recall", "rejected_unsupported", "unsupported"),
            ("supported accepted", "accept_recall", "accepted_supported", "supported"),
            ("precision of rejects", "reject_precision", None, None),
            ("precision of accepts", "accept_precision", None, None)]
    out = [f"faithfulness set, split {result['split']}: {result['items']} sentences",
           f"{'':<24}{'claim check':>16}{'word overlap (old)':>22}"]
    for title, key, num, den in rows:
        cells = []
        for name in ("claim_check", "overlap_check"):
            s = result[name]
            frac = f" ({s[num]}/{s[den]})" if num else ""
            cells.append(f"{s[key] if s[key] is not None else '-'}{frac}")
        out.append(f"{title:<24}{cells[0]:>16}{cells[1]:>22}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = evaluate(args.split)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
