"""The bounded LLM work queue: one worker thread owns the DraftService (one model in memory); full queue -> 429."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sdi.errors import SdiError

log = logging.getLogger("sdi.api.queue")
DEFAULT_MAX_WAITING = 4  # with one small model on 2 cores: at most ~5 drafts of wait before 429
_STOP = object()


WORKER_NICE = 5  # the model's threads yield some CPU to request handling: list/detail stay fast while it drafts


def _lower_priority() -> None:
    """Lower this thread's CPU priority (Linux: per thread; threads the model starts from here inherit it)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):  # not Linux, or not permitted: run at normal priority
        log.info("could not lower the drafting worker's priority")


class QueueFull(SdiError):
    """Too much LLM work waiting; the client should retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the drafting queue is full", f"retry in {retry_after} s")
        self.retry_after = retry_after


class DraftingUnavailable(SdiError):
    """The drafting service could not be started (e.g. the model file is missing)."""


@dataclass
class Job:
    """One unit of LLM work; streamed jobs push (event, data) pairs to the requesting coroutine."""

    fn: Callable[[Any], Any]
    streaming: bool
    loop: asyncio.AbstractEventLoop | None
    events: asyncio.Queue[tuple[str, Any]] | None
    future: Future[Any] = field(default_factory=Future)
    cancelled: bool = False

    def emit(self, event: str, data: Any) -> None:
        """Hand one event to the waiting coroutine (thread-safe)."""
        if self.loop is not None and self.events is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.events.put_nowait, (event, data))


class WorkQueue:
    """A bounded FIFO of jobs run one at a time by a single worker thread over one DraftService."""

    def __init__(self, factory: Callable[[], Any], max_waiting: int = DEFAULT_MAX_WAITING) -> None:
        self._factory = factory
        self.max_waiting = max_waiting
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting = 0
        self.running = False
        self.service: Any = None
        self.state = "starting"  # starting | ready | unavailable
        self.error: str | None = None
        self.done = 0
        self._avg_seconds = 5.0
        self._thread = threading.Thread(target=self._work, name="sdi-llm-worker", daemon=True)
        self._started = False

    def start(self) -> None:
        """Start the worker (it builds the service first, so the model loads off the request path)."""
        with self._lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the running job, drop waiting ones, stop the worker."""
        if self._started:
            self._jobs.put(_STOP)
            self._thread.join(timeout)

    @property
    def waiting(self) -> int:
        """Jobs queued behind the running one."""
        return self._waiting

    def retry_after(self) -> int:
        """Seconds until a slot is likely free."""
        return max(1, math.ceil(self._avg_seconds))

    def _admit(self) -> None:
        self.start()
        if self.state == "unavailable":
            raise DraftingUnavailable(f"drafting is unavailable: {self.error}", "see the server log; fix the model settings")
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise QueueFull(self.retry_after())
            self._waiting += 1

    def submit(self, fn: Callable[[Any], Any]) -> Future[Any]:
        """Queue fn(service) and return a future of its result (QueueFull when the queue is full)."""
        self._admit()
        job = Job(fn, False, None, None)
        self._jobs.put(job)
        return job.future

    def submit_stream(self, fn: Callable[[Any], Iterator[tuple[str, Any]]]) -> Job:
        """Queue a generator fn(service) whose items are streamed as events, then ("end", None)."""
        self._admit()
        loop = asyncio.get_running_loop()
        job = Job(fn, True, loop, asyncio.Queue())
        self._jobs.put(job)
        return job

    def stats(self) -> dict[str, Any]:
        """State for /health and the benchmark."""
        return {"state": self.state, "error": self.error, "running": self.running, "waiting": self._waiting,
                "max_waiting": self.max_waiting, "done": self.done, "avg_seconds": round(self._avg_seconds, 3)}

    def _boot(self) -> None:
        try:
            self.service = self._factory()
            warm_up = getattr(self.service, "warm_up", None)
            if callable(warm_up):  # e.g. open the retriever so the first draft does not pay for it
                warm_up()
            self.state = "ready"
        except Exception as exc:  # the app still serves everything but drafting
            log.exception("drafting service failed to start")
            self.state, self.error = "unavailable", f"{type(exc).__name__}: {exc}"

    def _work(self) -> None:
        _lower_priority()
        self._boot()
        while True:
            job = self._jobs.get()
            if job is _STOP:
                break
            with self._lock:
                self._waiting -= 1
            if job.cancelled:
                job.future.cancel()
                continue
            self.running = True
            started = time.perf_counter()
            try:
                self._run(job)
            finally:
                self.running = False
                self.done += 1
                self._avg_seconds = 0.7 * self._avg_seconds + 0.3 * (time.perf_counter() - started)
        self._drain()

    def _run(self, job: Job) -> None:
        if self.state != "ready":
            error: BaseException = DraftingUnavailable(f"drafting is unavailable: {self.error}")
            job.future.set_exception(error)
            job.emit("error", error)
            return
        try:
            if not job.streaming:
                job.future.set_result(job.fn(self.service))
                return
            stream = job.fn(self.service)
            for item in stream:
                job.emit(*item)
                if job.cancelled:
                    stream.close()
                    break
            job.emit("end", None)
            job.future.set_result(None)
        except BaseException as exc:  # handed to the request that asked
            job.future.set_exception(exc)
            job.emit("error", exc)

    def _drain(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not _STOP:
                job.future.cancel()
                job.emit("error", DraftingUnavailable("the server is shutting down"))
