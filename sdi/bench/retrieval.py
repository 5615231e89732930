"""`sdi bench retrieval`: indexing throughput next to bare SentenceTransformer.encode, recall on the labelled query
sets, and query latency at scale.

Throughput: the same demo service notes are embedded by bare `SentenceTransformer.encode` (torch), by the
configured backend's encode alone, and by the whole `sdi index` pipeline with that backend (chunking, embedding,
Chroma upsert, keyword catalog; the embedding cache off), in the same process, alternating, best of three each.
`torch_ratio` = pipeline chunks/s / bare torch encode chunks/s.

Recall: recall@5 and MRR of hybrid and dense search on the demo query set and the real excavator set
(eval/retrieval_eval.py; the excavator set when its data is present), with torch and with the configured backend,
so a faster backend is seen to keep the answers (vectors come from the embedding cache after the first run).

Latency: `Searcher.search` (hybrid, k=5, including the query embedding) over stores of 10,000 and 100,000 chunks,
with a query mix of codes, part numbers and symptoms under no filter, a machine, a customer, a model (other
machines: the retriever's similar cases) and a date range. Real embeddings are computed for up to 10,000 distinct
demo chunks; larger sizes repeat them (new ids, serials and customers per copy, embeddings jittered and
renormalised) unless --full-embed embeds every chunk for real (~150 chunks/s on 2 cores).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.catalog import Catalog, Filters, row_from, sorted_rows
from retrieval.embedder import get_embedder
from retrieval.indexer import Planned, plan_records, run_index
from retrieval.search import Searcher
from retrieval.vector_store import EmbeddedChromaStore
from sdi.store import MachineFile

REAL_MAX = 10_000
ROUNDS = 3  # throughput: alternate bare and pipeline runs, best of each (other processes add noise)
RECORDS_PER_MACHINE = 5  # the demo writes 2-10 notes per machine, about 5 on average
QUERY_TEXTS = (
    "E-417", "alarm E-140 laser power drop", "P/N 4471-220", "4432-760", "hydraulic oil leaking at cylinder",
    "Y axis drive belt worn", "vibration too high bearing noise", "scheduled maintenance", "protective glass dirty",
    "light curtain misaligned", "E-612 turret index", "gripper vacuum lost", "pressure sensor faulty",
    "customer asked for maintenance contract",
)


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _demo_db(workdir: Path, records: int, seed: int, quiet: bool) -> MachineFile:
    """A machine file holding at least `records` demo service notes (generated and imported once per size)."""
    from sdi.demo import generator as demo
    from connectors.ingest import ingest

    machines = max(50, math.ceil(records / RECORDS_PER_MACHINE * 1.1))
    folder = workdir / f"demo-{machines}-{seed}"
    db_path = folder / "machine-file.duckdb"
    if not db_path.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        _say(quiet, f"generating and importing a demo base of {machines:,} machines")
        demo.generate(folder / "files", machines=machines, seed=seed)
        with MachineFile(db_path) as db:
            ingest(db, folder / "files" / "mapping.yaml")
        shutil.rmtree(folder / "files", ignore_errors=True)
    return MachineFile(db_path)


def throughput(db: MachineFile, n: int, workdir: Path, model_path: Path | None, quiet: bool) -> dict[str, Any]:
    """Chunks/s of bare torch encode, of the configured backend's encode and of the index pipeline, on n chunks."""
    torch_st = get_embedder(model_path, backend="torch", cached=False)
    embedder = get_embedder(model_path, cached=False)
    db.execute("CREATE OR REPLACE TEMP TABLE _keep AS SELECT record_id FROM service_records ORDER BY record_id LIMIT ?", [n])
    sub = workdir / "throughput.duckdb"
    sub.unlink(missing_ok=True)
    MachineFile(sub).close()  # the store creates the schema
    db.execute(f"ATTACH '{sub}' AS t")
    db.execute("INSERT INTO t.service_records BY NAME SELECT * EXCLUDE (source_id) FROM service_records "
               "WHERE record_id IN (SELECT record_id FROM _keep)")
    db.execute("INSERT INTO t.machines BY NAME SELECT * EXCLUDE (source_id) FROM machines")
    db.execute("DETACH t")
    with MachineFile(sub) as small:
        _, planned = plan_records(small, embedder.model_id)
        texts = [p.chunk.text for p in planned]
        torch_st.encode(texts[:64])  # warm-up
        embedder.encode(texts[:64])
        bare, backend, pipe = [], [], []
        for round_ in range(ROUNDS):
            _say(quiet, f"throughput round {round_ + 1}/{ROUNDS}: bare torch encode, {embedder.cache_id.split('|')[1]} "
                        f"encode, then the index pipeline, of {len(texts):,} chunks")
            bare.append(_rate(len(texts), lambda: torch_st.bare_encode(texts)))  # type: ignore[attr-defined]
            backend.append(_rate(len(texts), lambda: embedder.encode(texts)))
            store_dir = workdir / "throughput-store"
            shutil.rmtree(store_dir, ignore_errors=True)
            store = EmbeddedChromaStore(store_dir / "chroma")
            t0 = time.perf_counter()
            report = run_index(small, store, embedder, store_dir / "catalog")
            pipe.append(report.embedded / (time.perf_counter() - t0))
    return {"chunks": len(texts), "backend": embedder.cache_id.split("|")[1],
            "bare_encode_chunks_per_s": max(bare), "backend_encode_chunks_per_s": max(backend),
            "pipeline_chunks_per_s": max(pipe), "torch_ratio": max(pipe) / max(bare),
            "pipeline_ratio": max(pipe) / max(backend)}


def _rate(n: int, work: Any) -> float:
    t0 = time.perf_counter()
    work()
    return n / (time.perf_counter() - t0)


def _recall_one(db: MachineFile, queries: list[dict[str, Any]], folder: Path, embedder: Any) -> dict[str, Any]:
    """recall@5 / MRR of hybrid and dense search over a fresh index of db built with one embedder."""
    from eval.retrieval_eval import score

    store = EmbeddedChromaStore(folder / "chroma")
    run_index(db, store, embedder, folder / "catalog", rebuild=True)
    results = score(Searcher(store, embedder, folder / "catalog"), queries)
    return {m: {"recall@5": results[m]["recall@5"], "mrr": results[m]["mrr"]} for m in ("hybrid", "dense")}


def recall(workdir: Path, model_path: Path | None, quiet: bool) -> dict[str, Any]:
    """Both labelled query sets scored with torch and with the configured backend (when it is another)."""
    from eval import retrieval_eval as ev

    configured = get_embedder(model_path)
    embedders = {"torch": get_embedder(model_path, backend="torch")}
    embedders.setdefault(configured.cache_id.split("|")[1], configured)
    work = workdir / "recall"
    work.mkdir(parents=True, exist_ok=True)
    say = (lambda _m: None) if quiet else (lambda m: _say(False, f"  {m}"))
    out: dict[str, Any] = {}
    _say(quiet, "recall: the demo query set" + (" and the excavator set" if ev.EXCAVATOR_DIR.is_dir() else ""))
    with ev.demo_base(work, 400, 42, say) as db:
        queries = ev.build_demo_queries(db)
        out["demo"] = {name: _recall_one(db, queries, work / f"demo-{name}", e) for name, e in embedders.items()}
    cleaned = ev.EXCAVATOR_DIR / "excavators-cleaned.csv"
    if cleaned.is_file():
        from connectors.ingest import ingest

        fresh = not (work / "excavators.duckdb").is_file()
        with MachineFile(work / "excavators.duckdb") as db:
            if fresh:
                ingest(db, ev.EXCAVATOR_MAPPING)
            queries = ev.build_excavator_queries(db, cleaned)
            out["excavators"] = {name: _recall_one(db, queries, work / f"exc-{name}", e) for name, e in embedders.items()}
    return out


def _real_chunks(db: MachineFile, n: int, model_id: str) -> list[Planned]:
    _, planned = plan_records(db, model_id)
    return planned[:n]


def _fill(store: EmbeddedChromaStore, base: list[Planned], vectors: np.ndarray, size: int, quiet: bool) -> list[dict]:
    """Store `size` chunks built from the real ones (copies get their own ids, serials, customers, jitter)."""
    rng = np.random.default_rng(1)
    rows: list[dict] = []
    batch = 5000
    for start in range(0, size, batch):
        idx = np.arange(start, min(size, start + batch))
        src = idx % len(base)
        copy = idx // len(base)
        vec = vectors[src].copy()
        if copy.max() > 0:
            vec[copy > 0] += rng.normal(scale=0.02, size=vec[copy > 0].shape).astype(np.float32)
            vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        ids, metas, docs = [], [], []
        for j, s, c in zip(idx, src, copy):
            p = base[s]
            meta = dict(p.meta)
            if c:
                meta.update(serial=f"{meta['serial']}~{c}", customer=f"{meta['customer']}~{c}",
                            source_id=f"{meta['source_id']}~{c}")
            cid = p.chunk.chunk_id if not c else f"{meta['source_id']}#c{p.chunk.n}"
            ids.append(cid)
            metas.append(meta)
            docs.append(p.chunk.text)
            rows.append(row_from(cid, p.chunk.text, meta))
        store.upsert(ids, vec, metas, docs)
        _say(quiet, f"  {min(size, start + batch):,}/{size:,} chunks stored")
    return rows


def _queries(rows: list[dict], n: int) -> list[tuple[str, str, Filters]]:
    rng = random.Random(5)
    kinds = ("none", "none", "serial", "serial", "customer", "model", "date")
    out = []
    for i in range(n):
        row = rows[rng.randrange(len(rows))]
        kind = kinds[i % len(kinds)]
        year = int(str(row["date"])[:4]) if row["date"] else 2020
        filters = {
            "none": Filters(),
            "serial": Filters(serial=row["serial"]),
            "customer": Filters(customer=row["customer"]),
            "model": Filters(model=row["model"], exclude_serial=row["serial"]),
            "date": Filters(date_from=date(year, 1, 1), date_to=date(year, 12, 31)),
        }[kind]
        out.append((kind, rng.choice(QUERY_TEXTS), filters))
    return out


def latency(base: list[Planned], vectors: np.ndarray, size: int, n_queries: int, workdir: Path,
            model_path: Path | None, quiet: bool) -> dict[str, Any]:
    """p50/p95 of hybrid search at one index size."""
    embedder = get_embedder(model_path)
    folder = workdir / f"latency-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    store = EmbeddedChromaStore(folder / "chroma")
    _say(quiet, f"latency at {size:,} chunks: filling the store")
    rows = _fill(store, base, vectors, size, quiet)
    generation = f"bench-{size}"
    store.set_state({"embedding_model": embedder.model_id, "dim": embedder.dim, "generation": generation})
    Catalog(sorted_rows(rows), generation=generation).save(folder / "catalog")
    searcher = Searcher(store, embedder, folder / "catalog")
    queries = _queries(rows, n_queries)
    for _, text, filters in queries[:10]:
        searcher.search(text, filters, k=5)  # warm-up: catalog load, caches
    times: dict[str, list[float]] = {}
    for kind, text, filters in queries:
        t0 = time.perf_counter()
        searcher.search(text, filters, k=5)
        times.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
    every = sorted(t for ts in times.values() for t in ts)

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(math.ceil(q * len(values))) - 1)]

    return {"chunks": size, "queries": len(every), "p50_ms": pct(every, 0.5), "p95_ms": pct(every, 0.95),
            "mean_ms": statistics.fmean(every),
            "p95_by_filter_ms": {k: pct(v, 0.95) for k, v in sorted(times.items())}}


def run(sizes: list[int], throughput_chunks: int, n_queries: int, seed: int, workdir: Path,
        model_path: Path | None = None, full_embed: bool = False, quiet: bool = False,
        with_recall: bool = True) -> dict[str, Any]:
    """The whole benchmark; prints a table (unless quiet) and returns the figures."""
    import torch

    workdir.mkdir(parents=True, exist_ok=True)
    real = max(sizes) if full_embed else min(max(sizes), REAL_MAX)
    db = _demo_db(workdir, max(real, throughput_chunks), seed, quiet)
    try:
        result: dict[str, Any] = {"threads": torch.get_num_threads()}
        _say(quiet, "loading the embedding model")
        embedder = get_embedder(model_path)
        result["model"] = embedder.model_id
        result["throughput"] = throughput(db, throughput_chunks, workdir, model_path, quiet)
        base = _real_chunks(db, real, embedder.model_id)
    finally:
        db.close()
    if with_recall:
        result["recall"] = recall(workdir, model_path, quiet)
    _say(quiet, f"embedding {len(base):,} distinct demo chunks for the latency stores (the embedding cache first)")
    t0 = time.perf_counter()
    vectors = embedder.encode([p.chunk.text for p in base])
    result["latency_corpus"] = {"distinct_chunks": len(base), "embed_seconds": time.perf_counter() - t0}
    result["latency"] = [latency(base, vectors, size, n_queries, workdir, model_path, quiet) for size in sizes]
    if not quiet:
        print(render(result))
    return result


def render(result: dict[str, Any]) -> str:
    tp = result["throughput"]
    lines = [
        f"indexing throughput: {tp['chunks']:,} demo chunks, {result['model']}, {result['threads']} torch threads",
        f"  {'bare SentenceTransformer.encode (torch)':<40}{tp['bare_encode_chunks_per_s']:8.1f} chunks/s",
        f"  {tp['backend'] + ' encode':<40}{tp['backend_encode_chunks_per_s']:8.1f} chunks/s",
        f"  {'sdi index pipeline (' + tp['backend'] + ')':<40}{tp['pipeline_chunks_per_s']:8.1f} chunks/s"
        f"   (torch_ratio {tp['torch_ratio']:.2f}, target >= 1.1; {tp['pipeline_ratio'] * 100:.0f} % of its backend's encode)",
    ]
    if result.get("recall"):
        lines.append("recall@5 / MRR on the labelled query sets (hybrid; dense in brackets)")
        for name, by_backend in result["recall"].items():
            for backend, r in by_backend.items():
                h, d = r["hybrid"], r["dense"]
                lines.append(f"  {name:<11} {backend:<10} {h['recall@5']:.3f} / {h['mrr']:.3f}   "
                             f"({d['recall@5']:.3f} / {d['mrr']:.3f})")
    lines += [
        "query latency: hybrid search, k=5, including the query embedding (target p95 <= 50 ms)",
        f"  {'chunks':>9} {'queries':>8} {'p50 ms':>8} {'p95 ms':>8}   p95 by filter (ms)",
    ]
    for lat in result["latency"]:
        by = "  ".join(f"{k} {v:.1f}" for k, v in lat["p95_by_filter_ms"].items())
        lines.append(f"  {lat['chunks']:>9,} {lat['queries']:>8} {lat['p50_ms']:>8.1f} {lat['p95_ms']:>8.1f}   {by}")
    distinct = result["latency_corpus"]["distinct_chunks"]
    if any(lat["chunks"] > distinct for lat in result["latency"]):
        lines.append(f"  (sizes above {distinct:,} repeat the {distinct:,} really embedded chunks with jittered "
                     "vectors; --full-embed embeds all)")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run([2000], 500, 50, 42, Path("/tmp/sdi-bench")), indent=2))
