"""Indexing while the app serves: machines with open opportunities first, then the rest, a draft's machine on request.

One writer: the indexer's own thread makes every change to the store and the keyword catalog. A draft for a machine
whose records are not searchable yet asks that thread (`ensure_indexed`), waits for the part in progress, then for
that machine's part and a catalog that lists it. Parts add chunks and never remove any (retrieval.indexer explains
why a part killed half-way is safe); the last step is the same as `sdi index`, so the index ends equal to its.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any, Callable

from retrieval.catalog import Catalog
from retrieval.embedder import Embedder
from retrieval.indexer import (BEHIND, IndexReport, Planned, catalog_rows, check_model, finish_index, plan_all,
                               priority_order, publish_catalog, store_part)
from retrieval.vector_store import VectorStore
from sdi.errors import SdiError
from sdi.store import MachineFile

log = logging.getLogger("sdi.index")
Say = Callable[[str], None]
PART_CHUNKS = 1024  # chunks per step, embedded longest first: in priority order, sorted lengths pad less
BATCH = 64  # chunks per embedding call: a draft for another machine, and a stop, wait for at most one
PUBLISH_SECONDS = 60.0  # how often the catalog catches up with the store when no draft is waiting for it
WAIT_SECONDS = 120.0  # longest a draft waits for its machine (then it drafts with what is searchable)
NICE = 10  # below the drafting worker's (sdi.api.queue): drafts and requests come first
_ACTIVE: dict[Path, "BackgroundIndexer"] = {}
_ACTIVE_LOCK = threading.Lock()


class BackgroundIndexer:
    """Indexes one machine file into one store and catalog from a thread of its own, in priority order."""

    def __init__(self, db: MachineFile, store: VectorStore, embedder: Embedder, catalog_dir: Path,
                 documents_dir: Path | None = None, busy: Callable[[], bool] = lambda: False,
                 say: Say | None = None) -> None:
        self.db = db  # this thread's own cursor
        self.store = store  # opened by the caller: Chroma's client set-up is not safe from two threads at once
        self.embedder = embedder
        self.catalog_dir = catalog_dir
        self.documents_dir = documents_dir
        self.busy = busy  # while it says so (a draft is running), only requested machines are indexed
        self.say = say or log.info
        self.state = "starting"  # starting | indexing | done | error | stopped
        self.error: str | None = None
        self.records_total = self.records_indexed = 0
        self.started = self.finished = 0.0
        self._cond = threading.Condition()
        self._stop = False
        self._requests: deque[str] = deque()
        self._queue: deque[str] = deque()  # serials still to store, in priority order
        self._inflight: list[str] = []  # serials of the step in progress
        self._first: set[str] = set()  # serials with open opportunities still to store
        self._unsearchable: set[str] = set()  # serials whose chunks the saved catalog does not list as planned
        self._records: dict[str, int] = {}
        self._thread = threading.Thread(target=self._main, name="sdi-indexer", daemon=True)

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        """Start indexing (at most one indexer per catalog in a process)."""
        key = self.catalog_dir.resolve()
        with _ACTIVE_LOCK:
            if key in _ACTIVE:
                raise SdiError(f"an index of {self.catalog_dir} is already being built in this process")
            _ACTIVE[key] = self
        self.started = time.perf_counter()
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the part in progress (the store and catalog stay consistent; the next start continues)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until indexing has ended (done, stopped or failed); False on timeout."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def ensure(self, serial: str, timeout: float = WAIT_SECONDS) -> bool:
        """Make the machine's records searchable first, waiting for it; True when they were not yet."""
        with self._cond:
            self._cond.wait_for(lambda: self.state != "starting", timeout)
            if self.state != "indexing" or serial not in self._unsearchable:
                return False
            self._requests.append(serial)
            self._cond.notify_all()
            self._cond.wait_for(lambda: serial not in self._unsearchable or self.state != "indexing", timeout)
            return True

    def progress(self) -> dict[str, Any]:
        """What /health and the status page show (counters only: nothing is scanned)."""
        with self._cond:
            waiting = len(self._queue) + len(self._inflight) if self.state in ("starting", "indexing") else 0
            out = {"state": "indexing" if self.state == "starting" else self.state,
                   "records_indexed": self.records_indexed, "records_total": self.records_total,
                   "machines_waiting": waiting, "open_opportunity_machines_waiting": len(self._first)}
        if self.error:
            out["error"] = self.error
        if self.finished:
            out["seconds"] = round(self.finished - self.started, 1)
        return out

    # ------------------------------------------------------------------ the thread

    def _main(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        except (AttributeError, OSError):
            pass
        try:
            self._run(self.store)
        except SdiError as exc:
            self._end("error", f"{exc.message} ({exc.hint})" if exc.hint else exc.message)
        except Exception as exc:  # noqa: BLE001 - the app keeps serving; drafts say the history is not searchable
            log.exception("background indexing failed")
            self._end("error", f"{type(exc).__name__}: {exc}")
        finally:
            with _ACTIVE_LOCK:
                if _ACTIVE.get(self.catalog_dir.resolve()) is self:
                    del _ACTIVE[self.catalog_dir.resolve()]

    def _end(self, state: str, error: str | None = None) -> None:
        with self._cond:
            self.state, self.error = state, error
            self.finished = time.perf_counter()
            self._queue.clear()
            self._first.clear()
            self._cond.notify_all()

    def _run(self, store: VectorStore) -> None:
        check_model(store, self.embedder, rebuild=False)
        report = IndexReport(store=store.description)
        planned = plan_all(self.db, self.embedder.model_id, self.documents_dir, report)
        existing = store.metadata()
        parts = _by_serial(planned)
        rows = self._plan(store, parts, existing)
        last_publish, first_published = time.perf_counter(), not self._first
        if store.state().get(BEHIND) or self._unsearchable - set(self._queue):  # a run stopped before publishing
            self._publish(store, rows)
        while (step := self._next(parts)) is not None:
            serials, requested = step
            store_part(store, self.embedder, [p for s in serials for p in parts[s]], existing, BATCH,
                       lambda: self._stop or (not requested and bool(self._requests)))
            stored = [s for s in serials if all(existing.get(p.chunk.chunk_id) == p.meta for p in parts[s])]
            with self._cond:
                self._queue.extendleft(reversed([s for s in serials if s not in stored]))  # interrupted: next time
                self._inflight = []
                for serial in stored:
                    self._first.discard(serial)
                    self.records_indexed += self._records.get(serial, 0)
                    rows[serial] = catalog_rows(parts[serial])
                first_now = not self._first and not first_published
                due = first_now or not self._queue or time.perf_counter() - last_publish > PUBLISH_SECONDS
            if requested or due or self._requests:
                self._publish(store, rows)
                last_publish, first_published = time.perf_counter(), first_published or first_now
        if self._stop:
            return self._end("stopped")
        finish_index(store, self.embedder, planned, self.catalog_dir, report, self.say, existing)
        self._end("done")
        self.say(f"search index complete: {report.records:,} service records, {report.chunks:,} chunks "
                 f"({self.finished - self.started:,.0f} s)")

    def _plan(self, store: VectorStore, parts: dict[str, list[Planned]],
              existing: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Which machines still need storing (in priority order) and which the saved catalog lacks; returns the
        catalog rows per serial a publish would write now (as planned where stored, else as listed)."""
        order, first = priority_order(self.db)
        ranked = [s for s in order if s in parts] + sorted(set(parts) - set(order))
        todo = [s for s in ranked if any(existing.get(p.chunk.chunk_id) != p.meta for p in parts[s])]
        pending, listed = set(todo), self._listed(store)
        records = {s: len({p.chunk.source_id for p in ps if p.meta["kind"] == "service_record"}) for s, ps in parts.items()}
        rows = {s: rs for s, rs in listed.items() if s in pending or s not in parts}
        rows.update({s: catalog_rows(ps) for s, ps in parts.items() if s not in pending})
        with self._cond:
            self._records = records
            self.records_total = sum(records.values())
            self.records_indexed = self.records_total - sum(records[s] for s in todo)
            self._queue = deque(todo)
            self._first = set(order[:first]) & pending
            self._unsearchable = {s for s in parts if listed.get(s) != sorted(catalog_rows(parts[s]), key=_id)}
            self.state = "indexing"
            self._cond.notify_all()
        if todo:
            self.say(f"indexing {sum(records[s] for s in todo):,} service records of {len(todo):,} machines in the "
                     f"background, the {len(self._first):,} with open opportunities first; a draft for a machine "
                     "not yet indexed indexes it first")
        return rows

    def _listed(self, store: VectorStore) -> dict[str, list[dict[str, Any]]]:
        """The saved catalog's rows by serial, sorted by id, if it is the store's (else nothing counts as listed)."""
        generation = store.state().get("generation")
        catalog = Catalog.load(self.catalog_dir) if Catalog.stamp(self.catalog_dir) == generation else None
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in catalog.rows if catalog is not None else []:
            out[row["serial"]].append(row)
        return {s: sorted(rs, key=_id) for s, rs in out.items()}

    def _next(self, parts: dict[str, list[Planned]]) -> tuple[list[str], bool] | None:
        """The next serials to store (a requested one alone, else up to PART_CHUNKS chunks' worth); None when done."""
        with self._cond:
            while True:
                if self._stop:
                    return None
                while self._requests:
                    serial = self._requests.popleft()
                    if serial in self._queue:
                        self._queue.remove(serial)
                        self._inflight = [serial]
                        return [serial], True
                    if serial in self._unsearchable:  # stored already, not yet in the catalog
                        return [], True
                if not self._queue:
                    return None
                if not self.busy():
                    break
                self._cond.wait(0.5)
            serials, chunks = [], 0
            while self._queue and chunks < PART_CHUNKS:
                serials.append(self._queue.popleft())
                chunks += len(parts[serials[-1]])
            self._inflight = serials
            return serials, False

    def _publish(self, store: VectorStore, rows: dict[str, list[dict[str, Any]]]) -> None:
        """Save a catalog of what is stored and make it the store's; waiting drafts go on."""
        publish_catalog(store, self.embedder, [r for rs in rows.values() for r in rs], self.catalog_dir)
        with self._cond:
            todo = set(self._queue)
            self._unsearchable = {s for s in self._unsearchable if s in todo}
            self._cond.notify_all()


def _id(row: dict[str, Any]) -> str:
    return str(row["id"])


def _by_serial(planned: list[Planned]) -> dict[str, list[Planned]]:
    parts: dict[str, list[Planned]] = defaultdict(list)
    for p in planned:
        parts[str(p.meta["serial"])].append(p)
    return dict(parts)


def active(catalog_dir: Path) -> BackgroundIndexer | None:
    """The indexer building this catalog in this process, if any."""
    with _ACTIVE_LOCK:
        return _ACTIVE.get(catalog_dir.resolve())


def ensure_indexed(catalog_dir: Path, serial: str, retriever: Any = None) -> None:
    """If this process is still indexing, make the machine's records searchable now (the retriever then sees them)."""
    worker = active(catalog_dir)
    if worker is not None and worker.ensure(serial):
        refresh = getattr(getattr(retriever, "searcher", None), "refresh", None)
        if callable(refresh):
            refresh()
