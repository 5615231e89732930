"""`sdi bench ingest`: import rows/s on the demo base next to a bare DuckDB read_csv of the same files."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from connectors.ingest import ingest
from connectors.mapping import load_mapping
from sdi.demo.run import generate_demo_files
from sdi.store import MachineFile
from sdi.progress import Progress


def _bare_read_csv(files: list[Path], db_path: Path) -> tuple[float, int]:
    """Seconds and rows for DuckDB's own read_csv of the CSV files into tables (the baseline)."""
    db_path.unlink(missing_ok=True)
    con = duckdb.connect(str(db_path))
    start = time.perf_counter()
    rows = 0
    for i, path in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv('{path}', all_varchar = true)")
        rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
    seconds = time.perf_counter() - start
    con.close()
    db_path.unlink(missing_ok=True)
    return seconds, rows


def run(sizes: list[int], seed: int, workdir: Path) -> None:
    """Generate each size once, then time the baseline and the full import in this process."""
    progress = Progress()
    print(f"{'machines':>9} {'csv rows':>12} {'bare s':>8} {'bare rows/s':>13} {'sdi s':>8} {'sdi rows/s':>12} {'ratio':>7}")
    for size in sizes:
        from sdi.demo.generator import DEFAULT_AS_OF

        folder = workdir / f"demo-{size}"
        mapping_path = generate_demo_files(folder, size, seed, DEFAULT_AS_OF, progress)
        mapping = load_mapping(mapping_path)
        csvs = sorted({mapping.resolve(f) for f in mapping.files if f.path.endswith(".csv")})
        bare_s, bare_rows = _bare_read_csv(csvs, workdir / "bare.duckdb")
        db_path = workdir / f"sdi-{size}.duckdb"
        db_path.unlink(missing_ok=True)
        start = time.perf_counter()
        with MachineFile(db_path) as db:
            report = ingest(db, mapping_path, progress=None)
        sdi_s = time.perf_counter() - start
        db_path.unlink(missing_ok=True)
        sdi_rows = sum(f.rows_read for f in report.files if f.file.endswith(".csv"))
        print(
            f"{size:>9,} {bare_rows:>12,} {bare_s:>8.2f} {bare_rows / bare_s:>13,.0f} {sdi_s:>8.2f} "
            f"{sdi_rows / sdi_s:>12,.0f} {bare_s / sdi_s:>7.2f}",
            flush=True,
        )
    print("ratio = sdi rows/s ÷ bare read_csv rows/s (sdi also types, validates, accounts and upserts every row;")
    print("its time includes the small XLSX/JSON catalog files, which the baseline does not read)")
