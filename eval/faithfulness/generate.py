"""Generate the model sentences of the faithfulness set (one record -> one sentence; temperature 0, fixed seed).

    python -m eval.faithfulness.generate --model smollm2 --model qwen0.5b=/tmp/models/qwen.gguf [--out FILE]
    (the committed set: --model smollm2, then --model qwen0.5b=... --offset 2 --out generated_qwen.jsonl)
    python -m eval.faithfulness.generate --model qwen0.5b=... --prompt finding.v1 --unseen --batch 7 --out FILE
    (the product's own finding task over records whose note no earlier batch used: batch b7, split fresh7)

Records come from a small generated demo base and from the real excavator work orders. Each output line is
{"id", "model", "sha256", "prompt", "dataset", "sources": {"H1": ...}, "sentence", "cite_added"}; labels are
added by a person afterwards (see LABELLING.md), never from the checker. Re-running gives the same sentences.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

HERE = Path(__file__).resolve().parent
EXCAVATORS = HERE.parent.parent.parent / "shared" / "data" / "nist_excavators" / "excavators.csv"
OUT = HERE / "generated.jsonl"
SEED = 42
Row = TypeVar("Row")
PM_TYPES = {"PM01": "repair", "PM02": "replacement", "PM03": "inspection", "PM05": "maintenance", "PM06": "repair"}
ASKS = re.compile(r"recommend|customer|cust\b|asked|wants|advised|quote|request", re.IGNORECASE)

SYSTEM = "You write short, factual sentences about machine service records. Never add facts."
PROMPTS: dict[str, str] = {
    "finding-v1": ("Service record [H1]: {text}\n\nWrite one sentence on what this visit found and what was done. "
                   "Mention a request or recommendation only if the record states one. End the sentence with [H1]."),
    "finding-v2": ("Record [H1]:\n{text}\n\nIn one plain English sentence, say what the technician found or did, "
                   "and what was asked for or recommended only if the record says so. Cite it as [H1]."),
    "advisor-v1": ("Fact [H1]: {text}\n\nRephrase this fact as one short talking point a service advisor could say "
                   "to the customer. Do not add anything the fact does not say. End with [H1]."),
    "advisor-v2": ("As a trusted service advisor, tell the customer in one sentence what this service record shows. "
                   "Record [H1]: {text}\nEnd the sentence with [H1]."),
}


def note_of(source: str) -> str:
    """A record's note without its 'date kind on serial: ' header (demo notes repeat across generated bases)."""
    return source.split(": ", 1)[-1].strip().lower()


def seen_notes(path: Path = HERE / "labelled.jsonl") -> set[str]:
    """The notes of every record already in the labelled set (or in another generated file)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return {note_of(text) for line in lines if line.strip() for text in json.loads(line)["sources"].values()}


def demo_records(count: int, seed: int = 11, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(key, source text) for service records of a small generated demo base: half with a request or advice."""
    from sdi.demo.generator import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), machines=60, seed=seed)
        with open(Path(tmp) / "service_records.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    rows = [r for r in rows if r["serial"] and r["date"] and len(r["text"].split()) >= 4]
    rows = _unseen(rows, lambda r: r["text"], skip)
    rng = random.Random(seed)
    asking = [r for r in rows if ASKS.search(r["text"])]
    plain = [r for r in rows if not ASKS.search(r["text"])]
    chosen = rng.sample(asking, min(len(asking), count // 2))
    chosen += rng.sample(plain, count - len(chosen))
    return [(f"demo:{r['record_id']}", f"{r['date']} {r['type'] or 'service'} on {r['serial']}: {r['text']}")
            for r in chosen]


def _unseen(rows: list[Row], note: Callable[[Row], str], skip: frozenset[str]) -> list[Row]:
    """Rows whose note is not in `skip`, each note once (all rows when skip is empty: the old batches)."""
    if not skip:
        return rows
    out, seen = [], set(skip)
    for row in rows:
        key = note(row).strip().lower()
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def excavator_records(count: int, seed: int = 5, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(key, source text) for real excavator work orders (terse, abbreviated, misspelled)."""
    with open(EXCAVATORS, newline="", encoding="utf-8") as fh:
        rows = [(i, r) for i, r in enumerate(csv.DictReader(fh)) if len(r["OriginalShorttext"].strip()) >= 10]
    rows = _unseen(rows, lambda ir: ir[1]["OriginalShorttext"], skip)
    rng = random.Random(seed)
    out = []
    for i, r in rng.sample(rows, count):
        kind = PM_TYPES.get(r["PMType"], "work order")
        text = f"{r['BscStartDate']} {kind} on excavator {r['Asset']}: {r['OriginalShorttext'].strip()}"
        out.append((f"exc:{i}", text))
    return out


def load_model(spec: str) -> tuple[str, object]:
    """NAME=PATH (a GGUF) or 'smollm2' (the bundled file) -> (name, backend) through the project's wrapper."""
    from sdi.llm.llamacpp import LlamaCppBackend, bundled_smollm2

    name, _, path = spec.partition("=")
    file = bundled_smollm2() if name == "smollm2" and not path else Path(path)
    return name, LlamaCppBackend(file, backend="gguf", threads=2)


def product_sentence(backend: object, prompt_id: str, text: str) -> str | None:
    """One sentence as the product's drafting task makes it: its prompt file, its stop, its cleaning and citation."""
    from sdi.drafting.prompts import load_prompt
    from sdi.drafting.tasks import cite, clean_reply, record_values
    from sdi.drafting.types import Source
    from sdi.llm.base import GenerationParams, complete

    name, _, version = prompt_id.partition(".v")
    prompt = load_prompt(name, int(version))
    source = Source("H1", "history", text)
    params = GenerationParams(max_tokens=prompt.max_tokens, temperature=0.0, seed=SEED, stop=("\n",))
    reply = clean_reply(complete(backend, prompt.render(**record_values(source)), params))  # type: ignore[arg-type]
    return None if reply is None else cite(reply, "H1")


def first_line(text: str) -> str:
    """The first non-empty line of an answer, without list markers and quotes."""
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"').strip()
        if line:
            return line
    return ""


def generate(models: list[str], n_demo: int, n_exc: int, out: Path, offset: int = 0, batch: int = 0,
             prompts: list[str] | None = None, unseen: bool = False, skip_files: tuple[Path, ...] = ()) -> int:
    """Write one sentence per (model, record); prompts rotate over records and models.

    A product prompt ("finding.v1") runs as the drafting task does; a reply it declines is left out (never checked).
    `unseen` samples only records whose note is not yet in the labelled set nor in any of `skip_files`."""
    from sdi.llm.base import GenerationParams

    skip = frozenset(seen_notes().union(*(seen_notes(f) for f in skip_files))) if unseen else frozenset()
    records = demo_records(n_demo, 11 + batch, skip) + excavator_records(n_exc, 5 + batch, skip)
    params = GenerationParams(max_tokens=80, temperature=0.0, seed=SEED, stop=("\n\n",))
    names = prompts or list(PROMPTS)
    written = 0
    with open(out, "w", encoding="utf-8") as fh:
        for m, spec in enumerate(models):
            name, backend = load_model(spec)
            for r, (key, text) in enumerate(records):
                prompt_id = names[(r + 2 * m + offset) % len(names)]
                if prompt_id in PROMPTS:
                    messages = [{"role": "system", "content": SYSTEM},
                                {"role": "user", "content": PROMPTS[prompt_id].format(text=text)}]
                    sentence: str | None = first_line("".join(backend.stream(messages, params)))
                else:
                    sentence = product_sentence(backend, prompt_id, text)
                if sentence is None:
                    print(f"declined {key}", file=sys.stderr)
                    continue
                added = "[H1]" not in sentence
                if added:
                    sentence = f"{sentence.rstrip()} [H1]"
                item_id = f"{name}:{key}:{prompt_id}" + (f":b{batch}" if batch else "")
                item = {"id": item_id, "model": name, "sha256": backend.info.sha256[:12],
                        "prompt": prompt_id, "dataset": key.split(":")[0], "sources": {"H1": text},
                        "sentence": sentence, "cite_added": added}
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
                fh.flush()
                written += 1
                print(f"{written} {item['id']}: {sentence}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="smollm2 or NAME=/path/model.gguf")
    parser.add_argument("--demo", type=int, default=60, help="demo service records")
    parser.add_argument("--excavators", type=int, default=50, help="excavator work orders")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--offset", type=int, default=0, help="shift of the prompt rotation (2 = as a second model)")
    parser.add_argument("--batch", type=int, default=0, help="another sample of records (shifts the sampling seeds)")
    parser.add_argument("--prompt", action="append", help="prompt ids to rotate (default: all of PROMPTS); a product "
                        "prompt file as NAME.vN, e.g. finding.v1")
    parser.add_argument("--unseen", action="store_true", help="only records whose note is not in labelled.jsonl")
    parser.add_argument("--skip", type=Path, action="append", default=[],
                        help="with --unseen: also leave out the notes of this generated batch (not yet labelled)")
    args = parser.parse_args(argv)
    count = generate(args.model, args.demo, args.excavators, args.out, args.offset, args.batch, args.prompt,
                     args.unseen, tuple(args.skip))
    print(f"wrote {count} sentences to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
