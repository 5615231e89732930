"""Imports in the background while the app serves: one at a time, its progress polled by the data-load page."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from fastapi import HTTPException, Request, status

from sdi.access.users import User
from sdi.api.deps import AppState, audit_action
from sdi.errors import SdiError

log = logging.getLogger("sdi.api")
_create = threading.Lock()
KEEP_JOBS = 20  # finished jobs remembered in memory (their runs stay in the machine file anyway)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class ImportJob:
    """One import the app runs: phase, files done out of all, what it said, the report or the error."""

    run_id: int
    mapping: str
    started_by: str
    total_files: int
    run_triggers: bool
    phase: str = "queued"  # queued | importing | detecting | done | failed
    current_file: str | None = None
    files_done: int = 0
    rows_read: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None
    seconds: float = 0.0
    error: str | None = None
    hint: str | None = None
    report: dict[str, Any] | None = None
    triggers: dict[str, Any] | None = None
    messages: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    _clock: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        """A progress line from the importer (the file it is on, rows staged)."""
        self.messages.append(message.strip())
        if message.startswith("importing "):
            self.current_file = message[len("importing "):].rsplit(" as ", 1)[0]

    def file_done(self, report: Any) -> None:
        """A file is stored: count it."""
        self.files_done += 1
        self.rows_read += report.rows_read
        self.rows_stored += report.rows_stored
        self.rows_rejected += report.rows_rejected

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what GET /api/admin/imports/{run}/progress returns)."""
        out = asdict(self)
        out.pop("_clock")
        out["messages"] = list(self.messages)
        out["running"] = self.phase in ("queued", "importing", "detecting")
        out["seconds"] = round(self.seconds if not out["running"] else time.monotonic() - self._clock, 1)
        return out


class ImportJobs:
    """The app's imports: at most one at a time (the synchronous POST /api/admin/ingest waits its turn too)."""

    def __init__(self) -> None:
        self._busy = threading.Lock()
        self._jobs: dict[int, ImportJob] = {}
        self.active: int | None = None

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the import slot, or answer 409 while another import runs."""
        self._take()
        try:
            yield
        finally:
            self._busy.release()

    def _take(self) -> None:
        """Take the import slot, or answer 409 while another import runs."""
        if not self._busy.acquire(blocking=False):
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"an import is running (#{self.active}); wait until it finishes, then start this one")

    def busy(self) -> bool:
        """An import is running in this app."""
        return self._busy.locked()

    def get(self, run_id: int) -> ImportJob | None:
        """The job of a run this app started (None for runs from the CLI or before the last restart)."""
        return self._jobs.get(run_id)

    def start(self, state: AppState, mapping: Path, user: User, run_triggers: bool) -> ImportJob:
        """Check the mapping, record the run and import it on a background thread; returns at once."""
        from connectors.mapping import load_mapping
        from sdi.store.imports import start_run

        self._take()
        try:
            parsed = load_mapping(mapping)  # a bad mapping is a 400 now, not a failed job later
            missing = [str(parsed.resolve(f)) for f in parsed.files if not parsed.resolve(f).is_file()]
            if missing:
                raise SdiError(f"the mapping names file(s) that are not on the server: {', '.join(missing)}",
                               "upload them with the mapping, or correct the paths in the mapping")
            db = state.cursor()
            try:
                run_id = start_run(db, str(mapping), user.name, "app")
            except Exception:
                db.close()
                raise
        except Exception:
            self._busy.release()
            raise
        job = ImportJob(run_id, str(mapping), user.name, len(parsed.files), run_triggers)
        self._jobs[run_id] = job
        for old in sorted(self._jobs)[:-KEEP_JOBS]:
            self._jobs.pop(old, None)
        self.active = run_id
        threading.Thread(target=self._run, args=(job, state, db, mapping, user), name=f"sdi-import-{run_id}",
                         daemon=True).start()
        return job

    def _run(self, job: ImportJob, state: AppState, db: Any, mapping: Path, user: User) -> None:
        from connectors.ingest import ingest

        try:
            job.phase = "importing"

            def file_done(report: Any) -> None:
                job.file_done(report)
                state.views.invalidate()

            report = ingest(db, mapping, batch_rows=state.settings.ingest_batch_rows, progress=job.say,
                            run_id=job.run_id, started_by=user.name, source="app", on_file=file_done)
            job.report = report.to_dict()
            job.current_file = None
            audit_action(state, "ingest", report.audit_payload(), user)
            if job.run_triggers:
                job.phase = "detecting"
                job.say("re-running trigger detection over the imported data")
                job.triggers = run_detection(state, db)
                audit_action(state, "triggers_run", {"as_of": job.triggers["as_of"],
                                                     "opportunities": job.triggers["opportunities"]}, user)
            job.phase = "done"
        except Exception as exc:  # the job's page shows the message; the app keeps serving
            if not isinstance(exc, SdiError):
                log.exception("import %s failed", job.run_id)
            job.phase, job.error = "failed", getattr(exc, "message", None) or str(exc) or type(exc).__name__
            job.hint = getattr(exc, "hint", None)
        finally:
            job.seconds = time.monotonic() - job._clock
            job.finished_at = _now()
            db.close()
            state.views.invalidate()
            self.active = None
            self._busy.release()


def run_detection(state: AppState, db: Any) -> dict[str, Any]:
    """Re-run trigger detection and sync opportunities; the counts a person reads."""
    from sdi.triggers.service import run_triggers

    result = run_triggers(db, state.settings.home)
    sync = result.sync
    return {"as_of": result.run.as_of.isoformat(), "machines": result.run.machines, "counts": result.run.counts(),
            "opportunities": sync.__dict__ if sync else None}


def import_jobs(request: Request) -> ImportJobs:
    """The app's import jobs (created on first use)."""
    with _create:
        jobs = getattr(request.app.state, "sdi_imports", None)
        if jobs is None:
            jobs = request.app.state.sdi_imports = ImportJobs()
        return jobs
