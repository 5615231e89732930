"""Webhook delivery per the Standard Webhooks spec: signing, sending, retries with back-off, the background deliverer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Sequence

import httpx

from sdi.config import Settings, WebhookEndpoint
from sdi.loop import outbox
from sdi.store import MachineFile
from sdi.store.events import now

log = logging.getLogger("sdi.webhooks")
BATCH = 64
WORKERS = 8
MAX_RETRY_AFTER = 24 * 3600.0
IDLE_POLL = 1.0  # seconds between looks at the event log when nothing is due


def new_secret() -> str:
    """A fresh signing secret: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: v1, + base64 HMAC-SHA256 of '{id}.{timestamp}.{body}' keyed by the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def body(item: outbox.Due) -> bytes:
    """The request body: type, timestamp and data as the spec lays out (plus SDI's event id)."""
    stamp = item.occurred_at.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": item.type, "timestamp": stamp, "event_id": item.event_id,
                       "data": json.loads(item.payload)}, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Policy:
    """How hard to try: per-attempt timeout, attempts, and the back-off's base and cap (seconds)."""

    timeout: float = 10.0
    max_attempts: int = 12
    base: float = 1.0
    cap: float = 600.0

    @classmethod
    def of(cls, settings: Settings) -> "Policy":
        """The policy the settings ask for."""
        return cls(settings.webhook_timeout, settings.webhook_max_attempts, settings.webhook_backoff_base,
                   settings.webhook_backoff_cap)

    def backoff(self, attempts: int) -> float:
        """Full jitter: a random delay up to base * 2^(attempts-1), never above the cap."""
        return random.uniform(0, min(self.cap, self.base * 2 ** min(attempts - 1, 62)))


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return min(max((when - datetime.now(timezone.utc)).total_seconds(), 0.0), MAX_RETRY_AFTER)


@dataclass(frozen=True)
class Attempt:
    """What one POST did."""

    status: int | None
    error: str | None
    duration_ms: float
    retry_after: float | None


def post(client: httpx.Client, endpoint: WebhookEndpoint, item: outbox.Due, timeout: float) -> Attempt:
    """Send one signed delivery; network errors and timeouts come back as an attempt without a status."""
    data = body(item)
    stamp = int(time.time())
    headers = {"content-type": "application/json", "user-agent": "sdi-webhooks", "webhook-id": item.webhook_id,
               "webhook-timestamp": str(stamp), "webhook-signature": sign(endpoint.secret, item.webhook_id, stamp, data)}
    started = time.perf_counter()
    try:
        response = client.post(endpoint.url, content=data, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return Attempt(None, f"timed out after {timeout:g} s", (time.perf_counter() - started) * 1000, None)
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:300], (time.perf_counter() - started) * 1000, None)
    elapsed = (time.perf_counter() - started) * 1000
    error = None if response.is_success else f"HTTP {response.status_code}: {response.text[:200]}"
    return Attempt(response.status_code, error, elapsed, retry_after(response.headers.get("retry-after")))


@dataclass
class PassCounts:
    """What delivery passes did."""

    queued: int = 0
    attempts: int = 0
    delivered: int = 0
    retrying: int = 0
    gave_up: int = 0
    disabled: list[str] = field(default_factory=list)

    def add(self, other: "PassCounts") -> None:
        """Add another pass's counts to these."""
        for name in ("queued", "attempts", "delivered", "retrying", "gave_up"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.disabled += [u for u in other.disabled if u not in self.disabled]


def _outcome(item: outbox.Due, attempt: Attempt, policy: Policy, at: datetime) -> dict[str, Any]:
    tries = item.attempts + 1
    if attempt.status is not None and 200 <= attempt.status < 300:
        state, wait = "delivered", None
    elif attempt.status == 410:
        state, wait = "pending", 0.0  # kept: goes out again if the endpoint is re-enabled
    elif tries >= policy.max_attempts:
        state, wait = "failed", None
    else:
        state, wait = "pending", attempt.retry_after if attempt.retry_after is not None else policy.backoff(tries)
    return {"event_id": item.event_id, "endpoint": item.endpoint, "webhook_id": item.webhook_id, "attempt": tries,
            "attempted_at": at, "status_code": attempt.status, "error": attempt.error,
            "duration_ms": round(attempt.duration_ms, 1), "state": state,
            "next_attempt_at": at + timedelta(seconds=wait) if wait is not None else None}


class Sender:
    """Delivers due outbox rows over one HTTP client and a small thread pool (a slow receiver does not hold up the rest)."""

    def __init__(self, endpoints: Sequence[WebhookEndpoint], policy: Policy) -> None:
        self.endpoints = {e.url: e for e in endpoints}
        self.policy = policy
        self.client = httpx.Client(follow_redirects=False, limits=httpx.Limits(max_connections=WORKERS))
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="sdi-webhook")

    def close(self) -> None:
        """Let in-flight requests finish, then release the pool and connections."""
        self.pool.shutdown(wait=True)
        self.client.close()

    def run_pass(self, db: MachineFile) -> PassCounts:
        """Queue new events, then send one batch of what is due and record every attempt."""
        counts = PassCounts(queued=outbox.fan_out(db, list(self.endpoints.values())))
        items = outbox.due(db, list(self.endpoints), now(), BATCH)
        if not items:
            return counts
        started = now()
        attempts = list(self.pool.map(lambda i: post(self.client, self.endpoints[i.endpoint], i, self.policy.timeout), items))
        results, gone, paused = [], {}, {}
        for item, attempt in zip(items, attempts):
            results.append(_outcome(item, attempt, self.policy, started))
            if attempt.status == 410:
                gone[item.endpoint] = f"410 Gone from the receiver at {started:%Y-%m-%d %H:%M:%S} UTC"
            elif attempt.retry_after is not None and not results[-1]["state"] == "delivered":
                paused[item.endpoint] = max(paused.get(item.endpoint, started), started + timedelta(seconds=attempt.retry_after))
        outbox.record_attempts(db, results, gone, paused)
        counts.attempts = len(results)
        counts.delivered = sum(r["state"] == "delivered" for r in results)
        counts.gave_up = sum(r["state"] == "failed" for r in results)
        counts.retrying = len(results) - counts.delivered - counts.gave_up
        counts.disabled = sorted(gone)
        return counts

    def seconds_to_next(self, db: MachineFile) -> float | None:
        """How long until the next pending delivery is due (None: nothing pending)."""
        when = outbox.next_due(db, list(self.endpoints))
        return None if when is None else max((when - now()).total_seconds(), 0.0)


def deliver(db: MachineFile, settings: Settings, wait: float = 0.0) -> PassCounts:
    """Send everything due now (and, for up to `wait` seconds, retries as they fall due); then return."""
    total = PassCounts()
    endpoints = settings.webhook_endpoints
    if not endpoints:
        return total
    sender = Sender(endpoints, Policy.of(settings))
    deadline = time.monotonic() + wait
    try:
        while True:
            counts = sender.run_pass(db)
            total.add(counts)
            if counts.attempts:
                continue
            left = sender.seconds_to_next(db)
            if left is None or time.monotonic() + left > deadline:
                return total
            time.sleep(min(left, IDLE_POLL) + 0.01)
    finally:
        sender.close()


class Deliverer:
    """The server's background delivery thread: polls the outbox on its own cursor until stopped."""

    def __init__(self, db: MachineFile, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sdi-webhooks", daemon=True)

    def start(self) -> "Deliverer":
        """Start delivering (only if an endpoint is configured: nothing is sent otherwise)."""
        if self.settings.webhook_endpoints:
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in flight, then stop; what is still pending stays in the outbox for the next start."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        sender = Sender(self.settings.webhook_endpoints, Policy.of(self.settings))
        try:
            while not self._stop.is_set():
                try:
                    if sender.run_pass(self.db).attempts:
                        continue
                    left = sender.seconds_to_next(self.db)
                except Exception:  # a failing pass must not end delivery for the server's lifetime
                    log.exception("webhook delivery pass failed; retrying shortly")
                    left = None
                self._stop.wait(IDLE_POLL if left is None else min(left, IDLE_POLL))
        finally:
            sender.close()
