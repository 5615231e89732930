"""The trigger stage as one call: detect at an as-of date, record the run, and (for the current date) sync opportunities."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sdi.audit.log import AuditLog
from sdi.store import MachineFile
from sdi.triggers import opportunities
from sdi.triggers.engine import TriggerRun, detect
from sdi.triggers.rules import RulesFile, load_rules


@dataclass
class StageResult:
    """A detection run and what it did to the stored opportunities (None for read-only back-test runs)."""

    run: TriggerRun
    sync: opportunities.SyncCounts | None
    rules: RulesFile


def run_triggers(db: MachineFile, home: Path, as_of: date | None = None, store: bool | None = None) -> StageResult:
    """Detect triggers; opportunities are synced only for the data's own as-of date unless told otherwise."""
    rules = load_rules(home)
    current = db.data_as_of()
    as_of = as_of or current
    store = (as_of == current) if store is None else store
    run = detect(db, rules, as_of)
    sync = None
    if store:
        sync = opportunities.sync(db, opportunities.build(db, rules, run), as_of)
    record_run(db, run, rules, stored=store)
    counts = run.counts()
    AuditLog(home).append("triggers_run", {
        "as_of": as_of.isoformat(), "rules_version": rules.version, "rules_sha256": rules.sha256, "machines": run.machines,
        "triggers": {r: c["fired"] for r, c in counts.items()}, "not_evaluable": {r: c["not_evaluable"] for r, c in counts.items()},
        "opportunities": vars(sync) if sync else None, "stored": store})
    return StageResult(run, sync, rules)


def record_run(db: MachineFile, run: TriggerRun, rules: RulesFile, *, stored: bool) -> None:
    """Log a detection run in trigger_runs (as-of date, rules version, counts, whether opportunities were synced)."""
    db.execute(
        "INSERT INTO trigger_runs VALUES (?, ?, ?, ?, ?, ?)",
        [run.as_of, rules.version, rules.sha256, run.machines, json.dumps(run.counts(), sort_keys=True), stored],
    )


def ensure_opportunities(db: MachineFile, home: Path) -> None:
    """Run detection once if opportunities were never computed for this machine file."""
    if db.scalar("SELECT count(*) FROM opportunities") == 0:
        run_triggers(db, home)
