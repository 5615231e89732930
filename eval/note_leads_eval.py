"""How well the note-lead matcher (sdi/triggers/notelead.py) finds leads in service notes, on the labelled set.

    python -m eval.note_leads_eval [--split test|dev|all] [--batch b1|b2] [--json] [--errors]

A found lead counts as right when its span overlaps a labelled lead's span in the same note (each labelled lead is
matched at most once). Reports lead precision and recall, and on the matched pairs how often the offer kind and
the speaker (recommendation / customer request) agree. Targets on the test split: precision >= 0.9, recall >= 0.8.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sdi.errors import SdiError
from sdi.triggers.notelead import find_leads

LABELLED = Path(__file__).resolve().parent / "note_leads" / "labelled.jsonl"
SPLITS = ("test", "dev", "all")
TARGETS = {"precision": 0.9, "recall": 0.8}


def load(split: str = "all", path: Path = LABELLED, batch: str | None = None) -> list[dict[str, Any]]:
    """The labelled notes of one split (and batch: b1 developed on, b2 held out)."""
    if split not in SPLITS:
        raise SdiError(f"unknown split {split!r}", f"use one of: {', '.join(SPLITS)}")
    if not path.is_file():
        raise SdiError(f"labelled set not found: {path}", "run python -m eval.note_leads.generate")
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i for i in items if (split == "all" or i["split"] == split) and batch in (None, i["batch"])]


def _range(text: str, span: str) -> tuple[int, int]:
    start = text.find(span)
    return start, start + len(span)


def match(item: dict[str, Any]) -> tuple[list[tuple[dict[str, Any], Any]], list[Any], list[dict[str, Any]]]:
    """(matched expected/found pairs, found leads with no label, labelled leads not found) for one note."""
    expected = [(lead, _range(item["text"], lead["span"])) for lead in item["leads"]]
    pairs, extra, used = [], [], set()
    for found in find_leads(item["text"]):
        hit = next((i for i, (_, (s, e)) in enumerate(expected)
                    if i not in used and found.start < e and s < found.end), None)
        if hit is None:
            extra.append(found)
        else:
            used.add(hit)
            pairs.append((expected[hit][0], found))
    missed = [lead for i, (lead, _) in enumerate(expected) if i not in used]
    return pairs, extra, missed


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def evaluate(split: str = "test", batch: str | None = None) -> dict[str, Any]:
    """Counts, rates and the errors of one split (and batch)."""
    items = load(split, batch=batch)
    tp = fp = fn = offer_ok = kind_ok = 0
    errors: list[dict[str, Any]] = []
    for item in items:
        pairs, extra, missed = match(item)
        tp, fp, fn = tp + len(pairs), fp + len(extra), fn + len(missed)
        offer_ok += sum(1 for exp, found in pairs if exp["offer"] == found.offer)
        kind_ok += sum(1 for exp, found in pairs if exp["kind"] == found.kind)
        errors += [{"id": item["id"], "error": "false lead", "span": f.span, "offer": f.offer} for f in extra]
        errors += [{"id": item["id"], "error": "missed", "span": m["span"], "offer": m["offer"]} for m in missed]
        errors += [{"id": item["id"], "error": "offer", "span": f.span, "expected": e["offer"], "found": f.offer}
                   for e, f in pairs if e["offer"] != f.offer]
    sources: dict[str, int] = {}
    for item in items:
        sources[item["source"]] = sources.get(item["source"], 0) + 1
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "split": split, "batch": batch or "all", "notes": len(items), "sources": sources, "labelled_leads": tp + fn, "found_leads": tp + fp,
        "true_positives": tp, "false_positives": fp, "false_negatives": fn,
        "precision": precision, "recall": recall, "offer_accuracy": _ratio(offer_ok, tp),
        "kind_accuracy": _ratio(kind_ok, tp), "targets": TARGETS,
        "meets_targets": bool(precision is not None and recall is not None and precision >= TARGETS["precision"]
                              and recall >= TARGETS["recall"]),
        "errors": errors,
    }


def render(result: dict[str, Any], errors: bool = False) -> str:
    """A short human-readable report."""
    lines = [
        f"note leads, split {result['split']}, batch {result['batch']}: {result['notes']} notes "
        f"({', '.join(f'{k} {v}' for k, v in sorted(result['sources'].items()))}), "
        f"{result['labelled_leads']} labelled leads, {result['found_leads']} found",
        f"  precision {result['precision']}  recall {result['recall']}  (targets >= {TARGETS['precision']}, "
        f">= {TARGETS['recall']}: {'met' if result['meets_targets'] else 'NOT met'})",
        f"  offer kind right on {result['offer_accuracy']} of matched leads, speaker right on {result['kind_accuracy']}",
    ]
    if errors:
        lines += [f"  {e['id']}: {e['error']}: {e['span']!r} " + (f"{e.get('expected')} -> {e.get('found')}"
                  if e["error"] == "offer" else str(e["offer"])) for e in result["errors"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--batch", choices=("b1", "b2"), help="b1: developed on; b2: held out (default: both)")
    parser.add_argument("--errors", action="store_true", help="list every false, missed and mis-kinded lead")
    args = parser.parse_args()
    result = evaluate(args.split, args.batch)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else render(result, args.errors))


if __name__ == "__main__":
    main()
