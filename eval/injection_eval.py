"""Prompt-injection defence on the adversarial note set, and what it costs on real notes (false positives).

    python -m eval.injection_eval [--notes eval/injection/notes.yaml] [--demo-machines 400]

For every adversarial note: is the injected part gone from what a model would read, and is the useful part still
there? Then the same filter over real technicians' short texts (the excavator work orders) and the demo's notes:
how many ordinary notes lose a sentence or a piece. Exit code 1 if any adversarial note gets through.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from sdi.drafting.inert import data_text, findings

HERE = Path(__file__).resolve().parent
NOTES = HERE / "injection" / "notes.yaml"
EXCAVATORS = HERE.parent.parent / "shared" / "data" / "nist_excavators" / "excavators.csv"


@dataclass
class Note:
    """One adversarial note and what must (not) survive it."""

    id: str
    kind: str
    text: str
    keep: list[str] = field(default_factory=list)
    source_never: list[str] = field(default_factory=list)
    draft_never: list[str] = field(default_factory=list)
    ui_literal: str | None = None


def load_notes(path: Path = NOTES) -> list[Note]:
    """The set, with padded (very long) notes expanded."""
    out = []
    for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["notes"]:
        pad = raw.pop("pad", None)
        text = raw.pop("text")
        if pad:
            text = " ".join([pad["sentence"]] * int(pad["times"]) + [text])
        out.append(Note(text=text, **raw))
    return out


def judge(note: Note) -> list[str]:
    """What is wrong with the note as a model would read it (empty: neutralised and still useful)."""
    seen = data_text(note.text).lower()
    problems = [f"still says {s!r}" for s in note.source_never if s.lower() in seen]
    return problems + [f"lost {k!r}" for k in note.keep if k.lower() not in seen]


def flagged(texts: list[str]) -> tuple[Counter[str], list[tuple[str, str]]]:
    """How many texts had something withheld or removed, by kind, with a few examples."""
    kinds: Counter[str] = Counter()
    examples: list[tuple[str, str]] = []
    for text in texts:
        found = findings(text)
        kinds.update(found)
        if found:
            kinds["any"] += 1
            if len(examples) < 8:
                examples.append((text, data_text(text)))
    return kinds, examples


def excavator_texts(path: Path = EXCAVATORS) -> list[str]:
    """The technicians' short texts of the real work orders (empty if the data is not beside the project)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        return [row["OriginalShorttext"] for row in csv.DictReader(f) if row.get("OriginalShorttext")]


def demo_texts(machines: int) -> list[str]:
    """The demo generator's service-note texts (the notes the demo pipeline drafts over)."""
    from sdi.demo import generator as demo
    from sdi.demo.run import generate_demo_files
    from sdi.progress import Progress

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate_demo_files(out, machines, 3, demo.DEFAULT_AS_OF, Progress(quiet=True))
        texts = []
        for path in sorted(out.glob("*.csv")):
            with path.open(newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                column = next((c for c in reader.fieldnames or [] if c.lower() in ("text", "note", "notes", "remarks")), None)
                if column:
                    texts += [row[column] for row in reader if row.get(column)]
        return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=Path, default=NOTES)
    parser.add_argument("--demo-machines", type=int, default=400)
    args = parser.parse_args(argv)
    notes = load_notes(args.notes)
    failed = 0
    print(f"adversarial set: {len(notes)} notes ({', '.join(f'{k} {n}' for k, n in sorted(Counter(n.kind for n in notes).items()))})")
    for note in notes:
        problems = judge(note)
        failed += bool(problems)
        print(f"  {note.id:<7} {note.kind:<15} {len(note.text):>6} chars  {'+'.join(findings(note.text)) or '-':<28} "
              f"{'OK' if not problems else 'FAILED: ' + '; '.join(problems)}")
    print(f"neutralised and still useful: {len(notes) - failed} of {len(notes)}")
    for name, texts in (("real excavator work orders", excavator_texts()), (f"demo notes ({args.demo_machines} machines)", demo_texts(args.demo_machines))):
        if not texts:
            print(f"{name}: not available")
            continue
        kinds, examples = flagged(texts)
        share = kinds["any"] / len(texts)
        print(f"{name}: {kinds['any']} of {len(texts):,} texts touched ({share:.2%}); by kind: "
              f"{', '.join(f'{k} {n}' for k, n in sorted(kinds.items()) if k != 'any') or 'none'}")
        for before, after in examples:
            print(f"    {before[:90]!r} -> {after[:90]!r}")
    print(f"as of {date.today().isoformat()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
