"""`sdi bench backtest`: the back-test over weekly dates on the demo base, next to one detection run (same process)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sdi.bench.triggers import _prepared_db
from sdi.progress import Progress
from sdi.store import MachineFile
from sdi.triggers.backtest import Spec, render, run_backtest
from sdi.triggers.engine import detect
from sdi.triggers.rules import load_rules


def measure(db: MachineFile, dates: int, window: int = 14, step: int = 7) -> dict[str, Any]:
    """Seconds for one `detect` at the last date and for the whole back-test, with its result."""
    rules = load_rules()
    end = db.data_as_of() - timedelta(days=window)
    spec = Spec(end - timedelta(days=step * (dates - 1)), end, step, window)
    start = time.perf_counter()
    detect(db, rules, end)
    one = time.perf_counter() - start
    start = time.perf_counter()
    result = run_backtest(db, rules, spec)
    total = time.perf_counter() - start
    return {"dates": dates, "detect_one_s": round(one, 3), "backtest_s": round(total, 2),
            "per_date_s": round(total / dates, 3), "vs_detect_loop": round(total / (one * dates), 2),
            "result": result}


def run(sizes: list[int], seed: int, dates: int, workdir: Path, as_json: bool = False) -> None:
    """Print the back-test time per size (target: 52 weekly dates on 8,000 machines in <= 60 s on 2 cores)."""
    from sdi.demo.generator import DEFAULT_AS_OF

    progress = Progress(quiet=as_json)
    rows = []
    for size in sizes:
        with MachineFile(_prepared_db(workdir, size, seed, DEFAULT_AS_OF, progress)) as db:
            row = measure(db, dates)
        result = row.pop("result")
        rows.append({"machines": size, **row, "backtest": result.to_dict()})
        if not as_json:
            print(f"{size:,} machines, {dates} weekly dates: back-test {row['backtest_s']:.1f} s "
                  f"({row['per_date_s']:.2f} s per date; one detect {row['detect_one_s']:.2f} s, "
                  f"back-test / ({dates} x detect) = {row['vs_detect_loop']:.2f})")
            print(render(result), flush=True)
    if as_json:
        print(json.dumps(rows, indent=2))
