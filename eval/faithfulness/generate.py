"""Generate the model sentences of the faithfulness set (one record -> one sentence; temperature 0, fixed seed).

    python -m eval.faithfulness.generate --model smollm2 --model qwen0.5b=/tmp/models/qwen.gguf [--out FILE]
    (the committed set: --model smollm2, then --model qwen0.5b=... --offset 2 --out generated_qwen.jsonl)

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

HERE = Path(__file__).resolve().parent
EXCAVATORS = HERE.parent.parent.parent / "shared" / "data" / "nist_excavators" / "excavators.csv"
OUT = HERE / "generated.jsonl"
SEED = 42
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


def demo_records(count: int, seed: int = 11) -> list[tuple[str, str]]:
    """(key, source text) for service records of a small generated demo base: half with a request or advice."""
    from sdi.demo.generator import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), machines=60, seed=seed)
        with open(Path(tmp) / "service_records.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    rows = [r for r in rows if r["serial"] and r["date"] and len(r["text"].split()) >= 4]
    rng = random.Random(seed)
    asking = [r for r in rows if ASKS.search(r["text"])]
    plain = [r for r in rows if not ASKS.search(r["text"])]
    chosen = rng.sample(asking, min(len(asking), count // 2))
    chosen += rng.sample(plain, count - len(chosen))
    return [(f"demo:{r['record_id']}", f"{r['date']} {r['type'] or 'service'} on {r['serial']}: {r['text']}")
            for r in chosen]


def excavator_records(count: int, seed: int = 5) -> list[tuple[str, str]]:
    """(key, source text) for real excavator work orders (terse, abbreviated, misspelled)."""
    with open(EXCAVATORS, newline="", encoding="utf-8") as fh:
        rows = [(i, r) for i, r in enumerate(csv.DictReader(fh)) if len(r["OriginalShorttext"].strip()) >= 10]
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


def first_line(text: str) -> str:
    """The first non-empty line of an answer, without list markers and quotes."""
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"').strip()
        if line:
            return line
    return ""


def generate(models: list[str], n_demo: int, n_exc: int, out: Path, offset: int = 0, batch: int = 0) -> int:
    """Write one sentence per (model, record); prompts rotate over records and models."""
    from sdi.llm.base import GenerationParams

    records = demo_records(n_demo, 11 + batch) + excavator_records(n_exc, 5 + batch)
    params = GenerationParams(max_tokens=80, temperature=0.0, seed=SEED, stop=("\n\n",))
    names = list(PROMPTS)
    written = 0
    with open(out, "w", encoding="utf-8") as fh:
        for m, spec in enumerate(models):
            name, backend = load_model(spec)
            for r, (key, text) in enumerate(records):
                prompt_id = names[(r + 2 * m + offset) % len(names)]
                messages = [{"role": "system", "content": SYSTEM},
                            {"role": "user", "content": PROMPTS[prompt_id].format(text=text)}]
                sentence = first_line("".join(backend.stream(messages, params)))
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
    args = parser.parse_args(argv)
    count = generate(args.model, args.demo, args.excavators, args.out, args.offset, args.batch)
    print(f"wrote {count} sentences to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
