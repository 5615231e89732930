"""Build the note-leads set: demo notes (sdi/demo/text.py, as the generator writes them), real excavator work orders
(../shared/data/nist_excavators) and hand-written German/English notes, merged with the hand labels.

    python -m eval.note_leads.generate [--data PATH]    # writes eval/note_leads/notes.jsonl and labelled.jsonl

The selection uses plain word lists (never the matcher): notes that mention a person, a quote or advice are
over-sampled so the set holds enough leads and enough near misses. Labels live in labels.tsv, written by reading.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

from sdi.demo.text import CODES, MODELS, NoteContext, service_note

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data" / "nist_excavators" / "excavators.csv"
# Words that make a note worth labelling (people, prices, advice, future work); not the matcher's patterns.
_DEMO_TOPICAL = re.compile(r"recom|cust|quot|ask|want|advis|to be|offer|request|consider|trade|operator|manager", re.I)
_REAL_TOPICAL = re.compile(r"quot|request|recom|suggest|advis|upgrade|spare|need|require|to be|next|operator|product"
                           r"|warrant|overhaul|kit\b", re.I)


def split_of(note_id: str) -> str:
    """dev or test, by a hash of the id (stable, about half each)."""
    return "test" if int(hashlib.sha256(note_id.encode()).hexdigest(), 16) % 2 else "dev"


def demo_notes(n_topical: int = 130, n_plain: int = 50, seed: int = 7, prefix: str = "demo") -> list[dict[str, Any]]:
    """Notes drawn with the demo generator's own note writer over a mix of families and record types."""
    rng = random.Random(seed)
    notes = []
    for i in range(3000):
        spec = MODELS[i % len(MODELS)]
        kind = rng.choices(("repair", "maintenance", "inspection", "replacement"), (0.4, 0.25, 0.2, 0.15))[0]
        codes = CODES.get(spec.family, ()) + CODES["common"]
        code = rng.choice(codes) if kind == "repair" and rng.random() < 0.5 else None
        vib = round(rng.uniform(5, 9), 1) if kind == "inspection" and rng.random() < 0.3 else None
        ctx = NoteContext(spec.family, spec.interval_h, code=code, vibration=vib, old_machine=rng.random() < 0.4,
                          successor=spec.successor)
        notes.append(service_note(rng, kind, ctx)[0])
    topical = [t for t in notes if _DEMO_TOPICAL.search(t)]
    plain = [t for t in notes if not _DEMO_TOPICAL.search(t)]
    pick = random.Random(seed + 1)
    chosen = pick.sample(topical, n_topical) + pick.sample(plain, n_plain)
    return [{"id": f"{prefix}-{i:03d}", "source": "demo", "text": t} for i, t in enumerate(chosen)]


def real_notes(path: Path = DATA, n_plain: int = 30, seed: int = 11, topical_too: bool = True,
               skip: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Every topical excavator work order (or none) plus a random sample of the rest (id = asset, date, row)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keyed = [(f"real-{r['Asset']}-{r['BscStartDate']}-{i}", r["OriginalShorttext"]) for i, r in enumerate(rows)]
    topical = [k for k in keyed if _REAL_TOPICAL.search(k[1])] if topical_too else []
    rest = [k for k in keyed if not _REAL_TOPICAL.search(k[1]) and k[0] not in skip]
    chosen = topical + random.Random(seed).sample(rest, n_plain)
    return [{"id": i, "source": "real_excavator", "text": t} for i, t in chosen]


def written_notes(name: str = "written.txt") -> list[dict[str, Any]]:
    """Hand-written notes (German and English shorthand), one per line of the file: id<TAB>text."""
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [{"id": i, "source": "written", "text": t} for i, t in (line.split("\t", 1) for line in lines if line.strip())]


def labels() -> dict[str, list[dict[str, str]]]:
    """labels.tsv: id<TAB>kind<TAB>offer<TAB>span (one line per expected lead; notes without a line have none)."""
    out: dict[str, list[dict[str, str]]] = {}
    for line in (HERE / "labels.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            note_id, kind, offer, span = line.split("\t")
            out.setdefault(note_id, []).append({"kind": kind, "offer": offer, "span": span})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    first = [n | {"batch": "b1"} for n in demo_notes() + real_notes(args.data) + written_notes()]
    seen = frozenset(n["id"] for n in first)
    # b2: drawn and labelled after the matcher was written, before it was run on them (the held-out measure).
    later = demo_notes(70, 20, seed=2027, prefix="demo2") + real_notes(args.data, 40, 29, False, seen)
    notes = first + [n | {"batch": "b2"} for n in later + written_notes("written_b2.txt")]
    (HERE / "notes.jsonl").write_text("".join(json.dumps(n, ensure_ascii=False) + "\n" for n in notes), encoding="utf-8")
    if (HERE / "labels.tsv").is_file():
        marks = labels()
        known = {n["id"]: n for n in notes}
        for note_id, leads in marks.items():
            assert note_id in known, f"label for unknown note {note_id}"
            for lead in leads:
                assert lead["span"] in known[note_id]["text"], f"{note_id}: span not in text: {lead['span']!r}"
        rows = [n | {"split": split_of(n["id"]), "leads": marks.get(n["id"], [])} for n in notes]
        (HERE / "labelled.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                             encoding="utf-8")
    print(f"{len(notes)} notes")


if __name__ == "__main__":
    main()
