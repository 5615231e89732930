"""Load an opened export into the view `stage` (_line, c0..cN as text): DuckDB's CSV reader where every row's line
can be known exactly, else the Python readers batch by batch."""

from __future__ import annotations

import codecs
import csv
import mmap
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from connectors.readers import LINE_COL, CsvLayout, RowProblem, SourceFile, judge_row
from connectors.transform import lit
from sdi.store import MachineFile

Progress = Callable[[str], None]
# DuckDB's row-shape errors: the row is re-read in Python to keep today's rules (trailing empty fields are fine).
_SHAPE_ERRORS = ("TOO MANY COLUMNS", "MISSING COLUMNS")
_NOT_SPACE = re.compile(rb"\S")
# Parquet types whose DuckDB text is the Python reader's text.
_AS_TEXT = {"VARCHAR", "DATE", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT"}
_CHUNK = 1 << 24  # bytes per numpy step of a byte scan
_NL, _CR, _SPACE, _QUOTE = 10, 13, 32, 34
STAGE_TABLES = ("stage_rows", "stage_rescued", "stage_skips", "stage_rejects", "stage_scans")


@dataclass
class Staged:
    """What staging found: rows in `stage`, rows the reader could not take, and how the file was read."""

    rows: int
    problems: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    padded: bool = True  # False when no cell can start or end with a space: nothing to trim


@dataclass(frozen=True)
class _Bytes:
    """What a byte scan of a CSV file found."""

    blank: bool  # blank lines before the end (DuckDB skips them silently: line numbers would shift)
    quoted: bool  # a quote character anywhere
    padded: bool  # a space next to a delimiter, a line break or a quote: some cell may need trimming


def stage(db: MachineFile, source: SourceFile, progress: Progress | None = None) -> Staged:
    """Fill the view `stage` with the file's rows; each keeps the line (or row/record) it came from."""
    drop_stage(db)
    bulk = None
    if source.csv is not None and source.header:
        bulk = _stage_duck_csv(db, source.csv)
    elif source.path.suffix.lower() == ".parquet" and source.header:
        bulk = _stage_duck_parquet(db, source.path)
    if isinstance(bulk, Staged):
        return bulk
    drop_stage(db)
    return _stage_batches(db, source, progress, [f"read row by row ({bulk})"] if bulk else [])


def drop_stage(db: MachineFile) -> None:
    """Remove what staging left behind (the file's text rows)."""
    db.execute("DROP VIEW IF EXISTS stage")
    for table in STAGE_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {table}")


def _text_columns(width: int) -> str:
    return "".join(f", c{i} VARCHAR" for i in range(width))


def _stage_batches(db: MachineFile, source: SourceFile, progress: Progress | None, notes: list[str]) -> Staged:
    width = len(source.header)
    db.execute(f"CREATE TEMP TABLE stage_rows (_line BIGINT{_text_columns(width)})")
    db.execute("CREATE TEMP VIEW stage AS SELECT * FROM stage_rows")
    staged = Staged(0, notes=notes)
    for batch in source.batches():
        staged.problems.extend(batch.problems)
        if batch.table.num_rows:
            with db.registered("_batch", batch.table):
                db.execute("INSERT INTO stage_rows SELECT * FROM _batch")
        staged.rows += batch.table.num_rows
        if progress and staged.rows >= 1_000_000 and batch.table.num_rows:
            progress(f"  {source.path.name}: {staged.rows:,} rows staged")
    return staged


def _stage_duck_csv(db: MachineFile, layout: CsvLayout) -> Staged | str:
    """Stage with DuckDB's reader; a reason to read row by row instead when lines could not be exact."""
    with _utf8(layout.path, layout.encoding, db) as path:
        scan = _scan(path, layout.delimiter)
        if scan.blank:
            return "blank lines inside the file"
        _read_csv(db, path, layout)
    if scan.quoted and _multiline(db, layout.width):
        return "quoted values span lines"
    rejects = db.sql(
        "SELECT line, list(DISTINCT error_type), any_value(csv_line) FROM stage_rejects GROUP BY line ORDER BY line"
    )
    if any(set(kinds) - set(_SHAPE_ERRORS) for _, kinds, _ in rejects):
        return "rows DuckDB could not parse: " + ", ".join(sorted({k for _, kinds, _ in rejects for k in kinds}))
    staged = Staged(db.sql("SELECT count(*) FROM stage_rows")[0][0], padded=scan.padded)
    rescued = _judge_rejects(rejects, layout, staged)
    _line_view(db, [line for line, _, _ in rejects], rescued, layout.width)
    return staged


def _read_csv(db: MachineFile, path: Path, layout: CsvLayout) -> None:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(layout.width)) + "}"
    db.execute(
        f"CREATE TEMP TABLE stage_rows AS SELECT * FROM read_csv({lit(path)}, header = false, skip = 1, "
        f"columns = {columns}, delim = {lit(layout.delimiter)}, quote = '\"', escape = '\"', auto_detect = false, "
        "store_rejects = true, rejects_table = 'stage_rejects', rejects_scan = 'stage_scans')"
    )


def _parquet_text(column: str, kind: str) -> str | None:
    """SQL giving a Parquet value the text the Python reader gives it; None for a type read in Python."""
    if kind in _AS_TEXT or kind.startswith("DECIMAL"):
        return f"CAST({column} AS VARCHAR)"
    if kind == "BOOLEAN":
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    if kind in ("FLOAT", "DOUBLE"):
        d = f"CAST({column} AS DOUBLE)"  # a whole number without its '.0', as Python's reader writes it
        whole = f"isfinite({d}) AND {d} = trunc({d}) AND abs({d}) < 1e38"
        return f"CASE WHEN {whole} THEN CAST(CAST({d} AS HUGEINT) AS VARCHAR) ELSE CAST({d} AS VARCHAR) END"
    if kind in ("TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_S"):
        ts = f"CAST({column} AS TIMESTAMP)"  # midnight as a date, microseconds only when there are some
        return (
            f"CASE WHEN CAST({ts} AS TIME) = TIME '00:00:00' THEN strftime({ts}, '%Y-%m-%d') "
            f"WHEN epoch_us({ts}) % 1000000 = 0 THEN strftime({ts}, '%Y-%m-%d %H:%M:%S') "
            f"ELSE strftime({ts}, '%Y-%m-%d %H:%M:%S.%f') END"
        )
    return None


def _stage_duck_parquet(db: MachineFile, path: Path) -> Staged | str:
    """Stage with DuckDB's Parquet reader when every column has a plain type; a reason to read in Python if not."""
    scan = f"read_parquet({lit(path)}, file_row_number = true)"
    described = db.sql(f"DESCRIBE SELECT * EXCLUDE (file_row_number) FROM {scan}")
    texts = [_parquet_text('"' + name.replace('"', '""') + '"', kind) for name, kind, *_ in described]
    if None in texts:
        kinds = sorted({kind for (_, kind, *_), text in zip(described, texts) if text is None})
        return "column types read in Python: " + ", ".join(kinds)
    cols = ", ".join(f"{text} AS c{i}" for i, text in enumerate(texts))
    db.execute(f"CREATE TEMP TABLE stage_rows AS SELECT file_row_number + 1 AS _line, {cols} FROM {scan}")
    db.execute("CREATE TEMP VIEW stage AS SELECT * FROM stage_rows")
    return Staged(db.sql("SELECT count(*) FROM stage_rows")[0][0])


def _multiline(db: MachineFile, width: int) -> bool:
    text = "concat(" + ", ".join(f"c{i}" for i in range(width)) + ")"
    return bool(db.scalar(f"SELECT count(*) FROM stage_rows WHERE regexp_matches({text}, '[\\r\\n]')"))


def _judge_rejects(rejects: list[tuple[int, list[str], str]], layout: CsvLayout, staged: Staged) -> list[tuple]:
    """Re-read DuckDB's rejected rows by the Python reader's rules: a problem, a blank line, or a row after all."""
    rescued = []
    for line, _, text in rejects:
        row = next(csv.reader([(text or "").strip("\r\n")], delimiter=layout.delimiter), [])
        judged = judge_row(row, layout.width, line, layout.delimiter)
        if isinstance(judged, RowProblem):
            staged.problems.append(judged)
        elif judged is not None:
            rescued.append((line, *judged))
    staged.rows += len(rescued)
    return rescued


def _line_view(db: MachineFile, skipped: list[int], rescued: list[tuple], width: int) -> None:
    """`stage` = DuckDB's rows with their line: the row's ordinal + header + lines DuckDB skipped before it."""
    cols = ", ".join(f"c{i}" for i in range(width))
    # Inside a transaction DuckDB numbers new rows from a large base: the ordinal is rowid minus the first rowid.
    # (fetched whole: a half-read result would keep DuckDB from registering the tables below)
    base = db.sql("SELECT coalesce(min(rowid), 0) FROM stage_rows")[0][0]
    if not skipped:
        db.execute(f"CREATE TEMP VIEW stage AS SELECT rowid - {base} + 2 AS _line, {cols} FROM stage_rows")
        return
    # The good row of ordinal i comes after the j-th skipped line r_j exactly when i >= r_j - j - 1.
    after: dict[int, int] = {}
    for j, line in enumerate(skipped, start=1):
        after[line - j - 1] = j
    _create(db, "stage_skips", {"ord": list(after), "skipped": list(after.values())})
    columns = list(zip(*rescued)) if rescued else [()] * (width + 1)
    _create(db, "stage_rescued", {LINE_COL: columns[0]} | {f"c{i}": columns[i + 1] for i in range(width)})
    db.execute(
        f"CREATE TEMP VIEW stage AS SELECT s._ord + 2 + coalesce(k.skipped, 0) AS _line, {cols} "
        f"FROM (SELECT rowid - {base} AS _ord, {cols} FROM stage_rows) s ASOF LEFT JOIN stage_skips k ON s._ord >= k.ord "
        f"UNION ALL SELECT * FROM stage_rescued"
    )


def _create(db: MachineFile, name: str, columns: dict[str, Sequence[Any]]) -> None:
    """A temp table from Python values in one statement (executemany is a statement per row); text unless a number."""
    numbers = (LINE_COL, "ord", "skipped")
    table = pa.table({k: pa.array(v, pa.int64() if k in numbers else pa.string()) for k, v in columns.items()})
    with db.registered("_rows", table):
        db.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _rows")


def _scan(path: Path, delimiter: str) -> _Bytes:
    """Blank lines, quotes and padded cells, by byte searches (no decoding)."""
    if path.stat().st_size == 0:
        return _Bytes(False, False, False)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = np.frombuffer(mm, dtype=np.uint8)
        try:
            at = _first_blank(data)
            padded = mm.find(b" ") >= 0 and _padded(data, delimiter)
        finally:
            del data  # the mmap cannot close while numpy holds its buffer
        blank = at >= 0 and _NOT_SPACE.search(mm, at) is not None  # blank lines only at the end shift no row
        return _Bytes(blank, mm.find(b'"') >= 0, padded)


def _first_blank(data: np.ndarray) -> int:
    """Where the first blank line ends ("\\n\\n" or "\\n\\r\\n"), -1 if there is none."""
    last = -3  # the line break before this chunk's first
    for i in range(0, len(data), _CHUNK):
        breaks = np.flatnonzero(data[i : i + _CHUNK] == _NL) + i
        if not breaks.size:
            continue
        gaps = np.diff(breaks, prepend=last)
        blank = np.flatnonzero((gaps == 1) | ((gaps == 2) & (data[breaks - 1] == _CR)))
        if blank.size:
            return int(breaks[blank[0]])
        last = int(breaks[-1])
    return -1


def _padded(data: np.ndarray, delimiter: str) -> bool:
    """Whether a space stands where a cell starts or ends (after a delimiter, line break or quote; before one)."""
    delim = delimiter.encode()
    if len(delim) != 1 or data[0] == _SPACE or data[-1] == _SPACE:
        return True
    before, after = [delim[0], _NL, _QUOTE], [delim[0], _NL, _CR, _QUOTE]
    for i in range(0, len(data), _CHUNK):
        chunk = data[max(i - 1, 0) : i + _CHUNK + 1]  # a byte either side: spaces at the seams see their neighbours
        spaces = np.flatnonzero(chunk[1:-1] == _SPACE) + 1
        if np.isin(chunk[spaces - 1], before).any() or np.isin(chunk[spaces + 1], after).any():
            return True
    return False


def _spill_dir(db: MachineFile) -> Path | None:
    """DuckDB's temp directory (the db_temp_dir setting), created if need be; None when DuckDB has none."""
    configured = db.sql("SELECT current_setting('temp_directory')")[0][0]
    if not configured:
        return None
    Path(configured).mkdir(parents=True, exist_ok=True)
    return Path(configured)


@contextmanager
def _utf8(path: Path, encoding: str, db: MachineFile) -> Iterator[Path]:
    """The file itself when it is UTF-8, else a UTF-8 copy in DuckDB's temp directory (DuckDB reads UTF-8)."""
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sdi-ingest-", dir=_spill_dir(db)) as folder:
        copy = Path(folder) / path.name
        with path.open(encoding=encoding, newline="") as src, copy.open("w", encoding="utf-8", newline="") as dst:
            shutil.copyfileobj(src, dst, 4 * 1024 * 1024)
        yield copy
