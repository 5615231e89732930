"""The retrieval stage's commands: `sdi index`, `sdi search`, `sdi bench retrieval` (thin wrappers over services)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from retrieval.render import render_hits, render_index
from sdi.cli.options import parse_date


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `index`, `search` and `bench retrieval` to the sdi command."""

    @app.command("index")
    def index_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")] = False,
        rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and build it again (texts embedded before come from the embedding cache).")] = False,
        documents: Annotated[bool, typer.Option("--documents/--no-documents", help="Also index SDI_HOME/documents.")] = True,
    ) -> None:
        """Index service records and customer documents for search (incremental: unchanged chunks are skipped)."""
        from retrieval.embedder import get_embedder
        from retrieval.indexer import run_index
        from retrieval.retriever import catalog_dir
        from retrieval.vector_store import open_store
        from sdi.config import get_settings
        from sdi.store import MachineFile
        from sdi.progress import Progress

        settings = get_settings()
        progress = Progress(quiet=as_json)
        store = open_store(settings.vector_store, settings.vector_dir)
        progress("loading the embedding model")
        embedder = get_embedder(settings.embedding_model)
        with MachineFile.for_settings(settings) as db:
            report = run_index(db, store, embedder, catalog_dir(settings),
                               settings.documents_dir if documents else None, progress, rebuild)
        data = report.to_dict()
        _print_json(data) if as_json else typer.echo(render_index(data))

    @app.command("search")
    def search_cmd(
        query: Annotated[str, typer.Argument(help="Words, an error code (E-417) or a part number (4471-220).")],
        serial: Annotated[Optional[str], typer.Option(help="Only this machine.")] = None,
        customer: Annotated[Optional[str], typer.Option(help="Only this customer id.")] = None,
        model: Annotated[Optional[str], typer.Option(help="Only machines of this model.")] = None,
        record_type: Annotated[Optional[str], typer.Option("--type", help="Only this record type (repair, maintenance, inspection, replacement, document).")] = None,
        date_from: Annotated[Optional[str], typer.Option("--from", help="Records on or after YYYY-MM-DD.")] = None,
        date_to: Annotated[Optional[str], typer.Option("--to", help="Records on or before YYYY-MM-DD.")] = None,
        k: Annotated[int, typer.Option("-k", help="Number of results.")] = 5,
        mode: Annotated[str, typer.Option(help="hybrid, dense or keyword.")] = "hybrid",
        as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")] = False,
    ) -> None:
        """Hybrid search over indexed service histories: each hit with its source id, span, score and why it matched."""
        from retrieval.catalog import Filters
        from retrieval.retriever import open_searcher
        from sdi.progress import Progress

        filters = Filters(serial=serial, customer=customer, model=model, record_type=record_type,
                          date_from=parse_date(date_from, "--from"), date_to=parse_date(date_to, "--to"))
        searcher = open_searcher(progress=Progress(quiet=as_json))
        hits = [h.to_dict() for h in searcher.search(query, filters, k, mode)]  # type: ignore[arg-type]
        if as_json:
            _print_json({"query": query, "filters": {k_: v for k_, v in filters.__dict__.items() if v is not None},
                         "mode": mode, "hits": hits})
        else:
            typer.echo(render_hits(query, hits))

    @bench_app.command("retrieval")
    def bench_retrieval(
        sizes: Annotated[str, typer.Option(help="Comma-separated chunk counts for the query latency.")] = "10000,100000",
        throughput_chunks: Annotated[int, typer.Option(help="Chunks embedded for the indexing throughput.")] = 2000,
        queries: Annotated[int, typer.Option(help="Queries timed at each size.")] = 200,
        seed: Annotated[int, typer.Option(help="Demo seed.")] = 42,
        full_embed: Annotated[bool, typer.Option("--full-embed", help="Embed every chunk of every size for real (slow: ~150 chunks/s).")] = False,
        workdir: Annotated[Optional[Path], typer.Option(help="Scratch folder (default: SDI_HOME/bench).")] = None,
        with_recall: Annotated[bool, typer.Option("--recall/--no-recall", help="Score recall@5 on the labelled query sets with torch and the configured backend.")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    ) -> None:
        """Indexing chunks/s next to bare SentenceTransformer.encode (torch_ratio), recall@5 per embedding backend, and query latency p50/p95 at each size."""
        from sdi.bench.retrieval import run
        from sdi.config import get_settings

        settings = get_settings()
        result = run([int(s) for s in sizes.split(",") if s.strip()], throughput_chunks, queries, seed,
                     workdir or settings.home / "bench", settings.embedding_model, full_embed, quiet=as_json,
                     with_recall=with_recall)
        if as_json:
            _print_json(result)
