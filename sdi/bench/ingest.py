"""`sdi bench ingest`: import rows/s on the demo base next to a bare DuckDB read_csv of the same files."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from connectors.ingest import ingest
from connectors.mapping import load_mapping
from sdi.config import Settings
from sdi.demo.run import generate_demo_files
from sdi.progress import Progress
from sdi.store import MachineFile


def _bare_read_csv(files: list[Path], db_path: Path, settings: Settings) -> tuple[float, int]:
    """Seconds and rows for DuckDB's own read_csv of the CSV files into tables (the baseline)."""
    db_path.unlink(missing_ok=True)
    config: dict[str, Any] = {"temp_directory": str(settings.db_spill_dir)}
    if settings.db_threads:
        config["threads"] = settings.db_threads
    if settings.db_memory_limit:
        config["memory_limit"] = settings.db_memory_limit
    con = duckdb.connect(str(db_path), config=config)
    start = time.perf_counter()
    rows = 0
    for i, path in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv('{path}', all_varchar = true)")
        rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
    seconds = time.perf_counter() - start
    con.close()
    db_path.unlink(missing_ok=True)
    return seconds, rows


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def _sdi_import(mapping_path: Path, db_path: Path, settings: Settings) -> tuple[float, Any]:
    """Seconds and report of SDI's full import of a mapping into a new machine file."""
    db_path.unlink(missing_ok=True)
    start = time.perf_counter()
    with MachineFile(db_path, settings.db_threads, settings.db_memory_limit, temp_dir=settings.db_spill_dir) as db:
        report = ingest(db, mapping_path, batch_rows=settings.ingest_batch_rows, progress=None)
    seconds = time.perf_counter() - start
    db_path.unlink(missing_ok=True)
    return seconds, report


def measure(size: int, seed: int, workdir: Path, settings: Settings, progress: Progress, repeat: int = 3) -> dict[str, Any]:
    """Generate one size once (reused later), then time the baseline and the full import in turn, `repeat` times
    each in this process; the ratio is of the medians (one slow run of either side, e.g. a cold page cache or a
    first import of a library, does not decide it)."""
    from sdi.demo.generator import DEFAULT_AS_OF

    mapping_path = generate_demo_files(workdir / f"demo-{size}", size, seed, DEFAULT_AS_OF, progress)
    mapping = load_mapping(mapping_path)
    csvs = sorted({mapping.resolve(f) for f in mapping.files if f.path.endswith(".csv")})
    bare_runs, sdi_runs = [], []
    for _ in range(max(1, repeat)):
        bare_s, bare_rows = _bare_read_csv(csvs, workdir / "bare.duckdb", settings)
        sdi_s, report = _sdi_import(mapping_path, workdir / f"sdi-{size}.duckdb", settings)
        bare_runs.append(bare_s)
        sdi_runs.append(sdi_s)
    bare_s, sdi_s = statistics.median(bare_runs), statistics.median(sdi_runs)
    sdi_rows = sum(f.rows_read for f in report.files if f.file.endswith(".csv"))
    return {
        "machines": size, "csv_rows": bare_rows, "bare_s": round(bare_s, 3), "bare_rows_per_s": round(bare_rows / bare_s),
        "sdi_s": round(sdi_s, 3), "sdi_rows_per_s": round(sdi_rows / sdi_s), "ratio": round((sdi_rows / sdi_s) / (bare_rows / bare_s), 3),
        "runs": {"bare_s": [round(x, 3) for x in bare_runs], "sdi_s": [round(x, 3) for x in sdi_runs]},
        "values_stored": sum(f.values_stored for f in report.files), "balanced": all(f.balanced for f in report.files),
        "read_row_by_row": [f.file for f in report.files if any(n.startswith("read row by row") for n in f.notes)],
        "peak_rss_mb": round(_peak_rss_mb()), "db_memory_limit": settings.db_memory_limit, "db_threads": settings.db_threads,
    }


def run(
    sizes: list[int], seed: int, workdir: Path, settings: Settings, as_json: bool = False, repeat: int = 3
) -> list[dict[str, Any]]:
    """Measure each size; print a table as it goes unless the caller prints the results as JSON."""
    progress = Progress(quiet=as_json)
    results = []
    if not as_json:
        print(f"{'machines':>9} {'csv rows':>12} {'bare s':>8} {'bare rows/s':>13} {'sdi s':>8} {'sdi rows/s':>12} {'ratio':>7} {'peak MB':>8}")
    for size in sizes:
        result = measure(size, seed, workdir, settings, progress, repeat)
        results.append(result)
        if not as_json:
            print(
                f"{size:>9,} {result['csv_rows']:>12,} {result['bare_s']:>8.2f} {result['bare_rows_per_s']:>13,} "
                f"{result['sdi_s']:>8.2f} {result['sdi_rows_per_s']:>12,} {result['ratio']:>7.2f} {result['peak_rss_mb']:>8,}",
                flush=True,
            )
    if not as_json:
        print(f"ratio = sdi rows/s ÷ bare read_csv rows/s, medians of {repeat} runs of each, in turn (sdi also types,")
        print("validates, accounts and upserts every row;")
        print("its time includes the small XLSX/JSON catalog files, which the baseline does not read); peak MB: this process")
    return results
