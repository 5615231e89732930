"""Retrieval evaluation: recall@5 and MRR of dense-only, BM25-only and hybrid search on labelled query sets.

Demo set: the demo base (`sdi.demo.generator.generate`) is generated, imported and indexed; >= 100 queries are built
from its data with relevance labelled by rules over the records (an error code in the note, a part number in the
note or the record's parts, the record type, a vibration reading) -- never by looking at search results.
Each query carries a filter scope (customer or machine) as a user of `sdi search` would set it.

Excavator set (when ../shared/data/nist_excavators is present): real mining-excavator work orders imported with
eval/mappings/nist_excavators.yaml; the cleaned file's Part / MajorSystem labels (read at run time, never
committed) give relevance: a query names a label, scoped to one excavator and one year.

Recall@5 is |relevant records in the top 5| / min(5, |relevant|); precision@5 is |relevant records in the top 5| /
|records in the top 5|; MRR uses the first relevant record in the top 10. Hits are chunks; they are mapped to their
records (first occurrence) before scoring. `rrf` is the reference: plain reciprocal-rank fusion (k=60) of the dense
and keyword results, computed here from those two searches, to check that hybrid beats a naive fusion.
The demo set is also scored in two halves, `demo-dev` (odd query numbers: the half fusion weights may be tuned on)
and `demo-test` (even numbers: held out).

    python -m eval.retrieval_eval [--machines 400] [--seed 42] [--write-queries] [--work DIR] [--json]
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
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parents[1]
QUERIES_FILE = Path(__file__).resolve().parent / "queries_demo.json"
EXCAVATOR_DIR = REPO.parent / "shared" / "data" / "nist_excavators"
EXCAVATOR_MAPPING = Path(__file__).resolve().parent / "mappings" / "nist_excavators.yaml"
METHODS = ("dense", "keyword", "rrf", "hybrid")
RRF_K = 60
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


def _records(source_ids: list[str]) -> list[str]:
    """Record ids in first-occurrence order, cut to the scoring depth."""
    ranked: list[str] = []
    for sid in source_ids:
        rid = sid.split(":", 1)[1]
        if rid not in ranked:
            ranked.append(rid)
    return ranked[:DEPTH]


def ranked_records(searcher: Any, q: dict[str, Any], method: str) -> list[str]:
    """The records one method returns for a labelled query, best first."""
    filters = _filters(q["filters"])
    if method != "rrf":
        return _records([h.source_id for h in searcher.search(q["query"], filters, k=DEPTH * 2, mode=method)])
    fused: dict[str, float] = {}
    record: dict[str, str] = {}
    for side in ("dense", "keyword"):
        for rank, h in enumerate(searcher.search(q["query"], filters, k=60, mode=side), start=1):
            fused[h.chunk_id] = fused.get(h.chunk_id, 0.0) + 1.0 / (RRF_K + rank)
            record[h.chunk_id] = h.source_id
    order = sorted(fused, key=lambda c: (-fused[c], c))[: DEPTH * 2]
    return _records([record[c] for c in order])


def metrics(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """(recall@5, precision@5, reciprocal rank) of one ranked list of records."""
    top = ranked[:K]
    found = len(relevant & set(top))
    rr = next((1.0 / (i + 1) for i, rid in enumerate(ranked) if rid in relevant), 0.0)
    return found / min(K, len(relevant)), found / len(top) if top else 0.0, rr


def _mean(rows: list[tuple[float, float, float]], i: int) -> float:
    return sum(r[i] for r in rows) / len(rows) if rows else 0.0


def score(searcher: Any, queries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """recall@5, precision@5 and MRR per method (overall and per query type)."""
    out: dict[str, dict[str, Any]] = {}
    for method in METHODS:
        per_type: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        per_query: dict[str, tuple[float, float, float]] = {}
        started = time.perf_counter()
        for q in queries:
            per_query[q["id"]] = metrics(ranked_records(searcher, q, method), set(q["relevant"]))
            per_type[q["type"]].append(per_query[q["id"]])
        every = list(per_query.values())
        out[method] = {
            "recall@5": _mean(every, 0), "precision@5": _mean(every, 1), "mrr": _mean(every, 2),
            "queries": len(every), "ms_per_query": (time.perf_counter() - started) * 1000 / len(every),
            "by_type": {t: {"recall@5": _mean(xs, 0), "precision@5": _mean(xs, 1), "mrr": _mean(xs, 2), "n": len(xs)}
                        for t, xs in sorted(per_type.items())},
            "per_query": per_query,
        }
    return out


def dev_half(query_id: str) -> bool:
    """Is this demo query in the dev half (odd number) rather than the held-out half?"""
    return int(query_id.rsplit("-", 1)[1]) % 2 == 1


def halves(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The demo result split into its dev and held-out halves (recomputed from the per-query scores)."""
    out = []
    for name, keep in (("demo-dev", True), ("demo-test", False)):
        results = {}
        for method, r in res["results"].items():
            rows = [v for qid, v in r["per_query"].items() if dev_half(qid) == keep]
            results[method] = {"recall@5": _mean(rows, 0), "precision@5": _mean(rows, 1), "mrr": _mean(rows, 2),
                               "queries": len(rows), "ms_per_query": r["ms_per_query"], "by_type": {}}
        out.append({"set": name, "queries": len(rows), "results": results})
    return out


def _index(db: Any, work: Path, say: Any) -> Any:  # incremental: a kept --work index is reused
    from retrieval.embedder import get_embedder
    from retrieval.indexer import run_index
    from retrieval.search import Searcher
    from retrieval.vector_store import EmbeddedChromaStore

    store = EmbeddedChromaStore(work / "chroma")
    embedder = get_embedder()
    report = run_index(db, store, embedder, work / "catalog", None, say)
    say(f"indexed {report.chunks:,} chunks in {report.seconds:.1f}s")
    return Searcher(store, embedder, work / "catalog")


@contextmanager
def demo_base(work: Path, machines: int, seed: int, say: Any) -> Iterator[Any]:
    """The demo base's machine file under `work`, generated and imported the first time, reused after."""
    from connectors.ingest import ingest
    from sdi.demo import generator as demo
    from sdi.store import MachineFile

    base = work / f"demo-{machines}-{seed}.duckdb"
    fresh = not base.is_file()
    if fresh:
        say(f"generating the demo base ({machines} machines, seed {seed})")
        demo.generate(work / "demo", machines=machines, seed=seed)
    with MachineFile(base) as db:
        if fresh:
            ingest(db, work / "demo" / "mapping.yaml")
        yield db


def run_demo(machines: int, seed: int, work: Path, write_queries: bool, say: Any) -> dict[str, Any]:
    with demo_base(work, machines, seed, say) as db:
        queries = build_demo_queries(db)
        stored = json.loads(QUERIES_FILE.read_text()) if QUERIES_FILE.is_file() else None
        expected = {"machines": machines, "seed": seed, "queries": queries}
        if write_queries:
            QUERIES_FILE.write_text(json.dumps(expected, indent=1) + "\n")
            say(f"wrote {len(queries)} queries to {QUERIES_FILE}")
        elif stored != expected:
            say(f"note: {QUERIES_FILE.name} differs from the queries built from today's demo data; scoring the fresh "
                "ones (run with --write-queries to update the file)")
        searcher = _index(db, work / f"demo-{machines}-{seed}-index", say)
        return {"set": "demo", "queries": len(queries), "results": score(searcher, queries)}


def run_excavators(work: Path, say: Any) -> dict[str, Any] | None:
    from connectors.ingest import ingest
    from sdi.store import MachineFile

    cleaned = EXCAVATOR_DIR / "excavators-cleaned.csv"
    if not cleaned.is_file() or not (EXCAVATOR_DIR / "excavators.csv").is_file():
        say(f"excavator set skipped: {EXCAVATOR_DIR} not present")
        return None
    fresh = not (work / "excavators.duckdb").is_file()
    say("excavator set: importing the real work orders")
    with MachineFile(work / "excavators.duckdb") as db:
        if fresh:
            ingest(db, EXCAVATOR_MAPPING)
        queries = build_excavator_queries(db, cleaned)
        searcher = _index(db, work / "excavator-index", say)
        return {"set": "excavators", "queries": len(queries), "results": score(searcher, queries)}


def render(results: list[dict[str, Any]]) -> str:
    lines = [f"{'set':<12}{'method':<10}{'queries':>8}{'recall@5':>10}{'MRR':>8}{'P@5':>8}{'ms/query':>10}"]
    for res in results:
        for method in METHODS:
            r = res["results"][method]
            lines.append(f"{res['set']:<12}{method:<10}{r['queries']:>8}{r['recall@5']:>10.3f}{r['mrr']:>8.3f}"
                         f"{r['precision@5']:>8.3f}{r['ms_per_query']:>10.1f}")
    lines.append("")
    lines.append(f"recall@5 by query type ({' / '.join(METHODS)}):")
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
    parser.add_argument("--work", type=Path, help="Keep the generated bases and indexes here (reused when present).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args(argv)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="sdi-eval-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        demo = run_demo(args.machines, args.seed, work, args.write_queries, say)
        results = [demo, *halves(demo)]
        if not args.no_excavators:
            exc = run_excavators(work, say)
            if exc:
                results.append(exc)
    if not args.json:
        print(render(results))
        return 0
    for res in results:
        for r in res["results"].values():
            r.pop("per_query", None)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
