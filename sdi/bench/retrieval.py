"""`sdi bench retrieval`: indexing throughput next to bare SentenceTransformer.encode, and query latency at scale.

Throughput: the same demo service notes are embedded by the bare library call and by the whole `sdi index`
pipeline (chunking, embedding, Chroma upsert, keyword catalog) in the same process, alternating, best of three each.

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
    """Chunks/s of the index pipeline and of bare encode on the same n chunks."""
    embedder = get_embedder(model_path)
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
        embedder.encode(texts[:64])  # warm-up
        bare, pipe = [], []
        for round_ in range(ROUNDS):
            _say(quiet, f"throughput round {round_ + 1}/{ROUNDS}: bare encode, then the index pipeline, of {len(texts):,} chunks")
            t0 = time.perf_counter()
            embedder.bare_encode(texts)
            bare.append(len(texts) / (time.perf_counter() - t0))
            store_dir = workdir / "throughput-store"
            shutil.rmtree(store_dir, ignore_errors=True)
            store = EmbeddedChromaStore(store_dir / "chroma")
            t0 = time.perf_counter()
            report = run_index(small, store, embedder, store_dir / "catalog")
            pipe.append(report.embedded / (time.perf_counter() - t0))
    return {"chunks": len(texts), "bare_encode_chunks_per_s": max(bare), "pipeline_chunks_per_s": max(pipe),
            "ratio": max(pipe) / max(bare)}


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
        model_path: Path | None = None, full_embed: bool = False, quiet: bool = False) -> dict[str, Any]:
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
    _say(quiet, f"embedding {len(base):,} distinct demo chunks for the latency stores")
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
        f"  bare SentenceTransformer.encode   {tp['bare_encode_chunks_per_s']:8.1f} chunks/s",
        f"  sdi index pipeline                {tp['pipeline_chunks_per_s']:8.1f} chunks/s"
        f"   ({tp['ratio'] * 100:.1f} % of bare encode; target >= 85 %)",
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
