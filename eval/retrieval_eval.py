"""Retrieval evaluation: recall@5 and MRR of dense-only, BM25-only and hybrid search on labelled query sets.

Demo set: the demo base (`sdi.demo.generator.generate`) is generated, imported and indexed; >= 100 queries are built
from its data with relevance labelled by rules over the records (an error code in the note, a part number in the
note or the record's parts, the record type, a vibration reading) -- never by looking at search results.
Each query carries a filter scope (customer or machine) as a user of `sdi search` would set it.

Excavator set (when ../shared/data/nist_excavators is present): real mining-excavator work orders imported with
eval/mappings/nist_excavators.yaml; the cleaned file's Part / MajorSystem labels (read at run time, never
committed) give relevance: a query names a label, scoped to one excavator and one year.

Recall@5 is |relevant records in the top 5| / min(5, |relevant|); MRR uses the first relevant record in the top 10.
Hits are chunks; they are mapped to their records (first occurrence) before scoring.

    python -m eval.retrieval_eval [--machines 400] [--seed 42] [--write-queries] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUERIES_FILE = Path(__file__).resolve().parent / "queries_demo.json"
EXCAVATOR_DIR = REPO.parent / "shared" / "data" / "nist_excavators"
EXCAVATOR_MAPPING = Path(__file__).resolve().parent / "mappings" / "nist_excavators.yaml"
METHODS = ("dense", "keyword", "hybrid")
K = 5
DEPTH = 10

TYPE_QUERIES = {
    "maintenance": "scheduled preventive maintenance service",
    "inspection": "inspection visit, condition and safety check",
}
VIBRATION_QUERY = "vibration too high, bearing noise"
ACRONYMS = {"GET": "GET ground engaging tools"}


# ---------------------------------------------------------------------------------------------- demo queries


def _contains(text: str, token: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", text, re.IGNORECASE) is not None


def _pick(rng: random.Random, items: list[Any], n: int) -> list[Any]:
    items = sorted(items, key=repr)
    rng.shuffle(items)
    return items[:n]


def build_demo_queries(db: Any, seed: int = 7) -> list[dict[str, Any]]:
    """Labelled queries over the demo base in db; deterministic for the same data and seed."""
    from sdi.demo.text import CODES, PARTS

    rng = random.Random(seed)
    records = db.sql(
        "SELECT r.record_id, r.serial, coalesce(r.type, ''), r.text, coalesce(r.parts, ''), m.customer_id "
        "FROM service_records r JOIN machines m ON m.serial = r.serial WHERE m.customer_id IS NOT NULL "
        "ORDER BY r.record_id"
    )
    by_customer: dict[str, list[tuple]] = defaultdict(list)
    by_serial: dict[str, list[tuple]] = defaultdict(list)
    for rec in records:
        by_customer[rec[5]].append(rec)
        by_serial[rec[1]].append(rec)
    descriptions = {code: desc for fam in CODES.values() for code, desc, *_ in fam}
    queries: list[dict[str, Any]] = []

    def add(kind: str, text: str, scope: dict[str, str], relevant: list[str]) -> None:
        queries.append({"id": f"{kind}-{len(queries) + 1:03d}", "type": kind, "query": text, "filters": scope,
                        "relevant": sorted(relevant)})

    def scoped(label: Any, pool: dict[str, list[tuple]], key: str, lo: int = 1, hi: int = 5, min_pool: int = 8):
        out = []
        for scope_value, recs in pool.items():
            if len(recs) < min_pool:
                continue
            rel = [r[0] for r in recs if label(r)]
            if lo <= len(rel) <= hi:
                out.append(({key: scope_value}, rel))
        return out

    code_pairs = []
    for code in sorted(descriptions):
        code_pairs += [(code, s, rel) for s, rel in scoped(lambda r, c=code: _contains(r[3], c), by_customer, "customer")]
    for code, scope, rel in _pick(rng, code_pairs, 30):
        add("code", code if rng.random() < 0.5 else f"alarm {code}", scope, rel)
    for code, scope, rel in _pick(rng, code_pairs, 20):
        add("symptom", descriptions[code].lower(), scope, rel)
    part_pairs = []
    for pn in sorted(PARTS):
        in_text = scoped(lambda r, p=pn: _contains(r[3], p), by_customer, "customer")
        part_pairs += [("part", pn, s, rel) for s, rel in in_text]
        in_record = scoped(lambda r, p=pn: p in r[4].split(";"), by_customer, "customer")
        part_pairs += [("component", pn, s, rel) for s, rel in in_record]
    for _, pn, scope, rel in _pick(rng, [p for p in part_pairs if p[0] == "part"], 20):
        add("part", pn if rng.random() < 0.5 else f"P/N {pn}", scope, rel)
    names = {pn: entry[0] for pn, entry in PARTS.items()}
    for _, pn, scope, rel in _pick(rng, [p for p in part_pairs if p[0] == "component"], 20):
        add("component", names[pn].lower(), scope, rel)
    for rtype, text in TYPE_QUERIES.items():
        pairs = scoped(lambda r, t=rtype: r[2] == t, by_serial, "serial", 1, 3, 5)
        for scope, rel in _pick(rng, pairs, 10):
            add("type", text, scope, rel)
    vib = scoped(lambda r: "mm/s" in r[3], by_customer, "customer")
    for scope, rel in _pick(rng, vib, 10):
        add("vibration", VIBRATION_QUERY, scope, rel)
    return queries


# ----------------------------------------------------------------------------------------- excavator queries


def build_excavator_queries(db: Any, cleaned: Path, seed: int = 11, limit: int = 120) -> list[dict[str, Any]]:
    """Queries naming a Part / MajorSystem label, scoped to one excavator and one year; relevant = rows with it."""
    by_line = {line: (rid, serial, day) for rid, serial, day, line in
               db.sql("SELECT record_id, serial, date, source_line FROM service_records")}
    labels: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    pool: dict[tuple[str, int], int] = defaultdict(int)
    with open(cleaned, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh)):
            rec = by_line.get(n + 2)
            if rec is None:
                continue
            rid, serial, day = rec
            pool[(serial, day.year)] += 1
            for column in ("Part", "MajorSystem"):
                for label in (row.get(column) or "").split("_"):
                    if label and label not in ("NA", "Misc"):
                        labels[(label, serial, day.year)].add(rid)
    candidates = [(label, serial, year, sorted(rel)) for (label, serial, year), rel in labels.items()
                  if 1 <= len(rel) <= 8 and pool[(serial, year)] >= 30]
    rng = random.Random(seed)
    queries = []
    for label, serial, year, rel in _pick(rng, candidates, limit):
        queries.append({
            "id": f"exc-{len(queries) + 1:03d}", "type": "label", "query": ACRONYMS.get(label, label.lower()),
            "filters": {"serial": serial, "date_from": f"{year}-01-01", "date_to": f"{year}-12-31"}, "relevant": rel,
        })
    return queries


# ------------------------------------------------------------------------------------------------ evaluation


def _filters(spec: dict[str, str]) -> Any:
    from retrieval.catalog import Filters

    return Filters(
        serial=spec.get("serial"), customer=spec.get("customer"), model=spec.get("model"),
        record_type=spec.get("type"),
        date_from=date.fromisoformat(spec["date_from"]) if "date_from" in spec else None,
        date_to=date.fromisoformat(spec["date_to"]) if "date_to" in spec else None,
    )


def score(searcher: Any, queries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """recall@5 and MRR per method (overall and per query type)."""
    out: dict[str, dict[str, Any]] = {}
    for method in METHODS:
        per_type: dict[str, list[tuple[float, float]]] = defaultdict(list)
        started = time.perf_counter()
        for q in queries:
            hits = searcher.search(q["query"], _filters(q["filters"]), k=DEPTH * 2, mode=method)
            ranked: list[str] = []
            for h in hits:
                rid = h.source_id.split(":", 1)[1]
                if rid not in ranked:
                    ranked.append(rid)
            ranked = ranked[:DEPTH]
            relevant = set(q["relevant"])
            recall = len(relevant & set(ranked[:K])) / min(K, len(relevant))
            rr = next((1.0 / (i + 1) for i, rid in enumerate(ranked) if rid in relevant), 0.0)
            per_type[q["type"]].append((recall, rr))
        every = [x for xs in per_type.values() for x in xs]
        out[method] = {
            "recall@5": sum(r for r, _ in every) / len(every), "mrr": sum(m for _, m in every) / len(every),
            "queries": len(every), "ms_per_query": (time.perf_counter() - started) * 1000 / len(every),
            "by_type": {t: {"recall@5": sum(r for r, _ in xs) / len(xs), "mrr": sum(m for _, m in xs) / len(xs),
                            "n": len(xs)} for t, xs in sorted(per_type.items())},
        }
    return out


def _index(db: Any, work: Path, say: Any) -> Any:
    from retrieval.embedder import get_embedder
    from retrieval.indexer import run_index
    from retrieval.search import Searcher
    from retrieval.vector_store import EmbeddedChromaStore

    store = EmbeddedChromaStore(work / "chroma")
    embedder = get_embedder()
    report = run_index(db, store, embedder, work / "catalog", None, say)
    say(f"indexed {report.chunks:,} chunks in {report.seconds:.1f}s")
    return Searcher(store, embedder, work / "catalog")


def run_demo(machines: int, seed: int, work: Path, write_queries: bool, say: Any) -> dict[str, Any]:
    from sdi.demo import generator as demo
    from connectors.ingest import ingest
    from sdi.store import MachineFile

    say(f"demo set: generating {machines} machines (seed {seed})")
    demo.generate(work / "demo", machines=machines, seed=seed)
    with MachineFile(work / "demo.duckdb") as db:
        ingest(db, work / "demo" / "mapping.yaml")
        queries = build_demo_queries(db)
        stored = json.loads(QUERIES_FILE.read_text()) if QUERIES_FILE.is_file() else None
        expected = {"machines": machines, "seed": seed, "queries": queries}
        if write_queries:
            QUERIES_FILE.write_text(json.dumps(expected, indent=1) + "\n")
            say(f"wrote {len(queries)} queries to {QUERIES_FILE}")
        elif stored != expected:
            say(f"note: {QUERIES_FILE.name} differs from the queries built from today's demo data; scoring the fresh "
                "ones (run with --write-queries to update the file)")
        searcher = _index(db, work / "demo-index", say)
        return {"set": "demo", "queries": len(queries), "results": score(searcher, queries)}


def run_excavators(work: Path, say: Any) -> dict[str, Any] | None:
    from connectors.ingest import ingest
    from sdi.store import MachineFile

    cleaned = EXCAVATOR_DIR / "excavators-cleaned.csv"
    if not cleaned.is_file() or not (EXCAVATOR_DIR / "excavators.csv").is_file():
        say(f"excavator set skipped: {EXCAVATOR_DIR} not present")
        return None
    say("excavator set: importing the real work orders")
    with MachineFile(work / "excavators.duckdb") as db:
        ingest(db, EXCAVATOR_MAPPING)
        queries = build_excavator_queries(db, cleaned)
        searcher = _index(db, work / "excavator-index", say)
        return {"set": "excavators", "queries": len(queries), "results": score(searcher, queries)}


def render(results: list[dict[str, Any]]) -> str:
    lines = [f"{'set':<12}{'method':<10}{'queries':>8}{'recall@5':>10}{'MRR':>8}{'ms/query':>10}"]
    for res in results:
        for method in METHODS:
            r = res["results"][method]
            lines.append(f"{res['set']:<12}{method:<10}{r['queries']:>8}{r['recall@5']:>10.3f}{r['mrr']:>8.3f}"
                         f"{r['ms_per_query']:>10.1f}")
    lines.append("")
    lines.append("recall@5 by query type (dense / keyword / hybrid):")
    for res in results:
        for t in res["results"]["hybrid"]["by_type"]:
            vals = " / ".join(f"{res['results'][m]['by_type'][t]['recall@5']:.2f}" for m in METHODS)
            lines.append(f"  {res['set']:<12}{t:<11}n={res['results']['hybrid']['by_type'][t]['n']:<4} {vals}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=400, help="Machines in the generated demo base.")
    parser.add_argument("--seed", type=int, default=42, help="Demo generator seed.")
    parser.add_argument("--write-queries", action="store_true", help=f"Rewrite {QUERIES_FILE.name}.")
    parser.add_argument("--no-excavators", action="store_true", help="Skip the real excavator set.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args(argv)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="sdi-eval-") as tmp:
        work = Path(tmp)
        results = [run_demo(args.machines, args.seed, work, args.write_queries, say)]
        if not args.no_excavators:
            exc = run_excavators(work, say)
            if exc:
                results.append(exc)
    print(json.dumps(results, indent=2) if args.json else render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
