"""`sdi bench webhooks`: N events to a loopback receiver that fails a share of requests; time, lost and duplicated ids."""

from __future__ import annotations

import json
import random
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sdi.config import load_settings
from sdi.loop.webhooks import deliver, new_secret, sign
from sdi.store import MachineFile
from sdi.store.events import record

SECRET = new_secret()


class _Flaky(BaseHTTPRequestHandler):
    """Accepts correctly signed deliveries, answering 500 to a random share first."""

    protocol_version = "HTTP/1.1"
    server: "_Receiver"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        data = self.rfile.read(int(self.headers["content-length"]))
        wid, stamp = self.headers["webhook-id"], int(self.headers["webhook-timestamp"])
        ok = sign(SECRET, wid, stamp, data) == self.headers["webhook-signature"]
        code = 401 if not ok else (500 if self.server.rng.random() < self.server.fail else 200)
        with self.server.lock:
            self.server.requests += 1
            if code == 200:
                self.server.accepted[wid] = self.server.accepted.get(wid, 0) + 1
        self.send_response(code)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fail: float, seed: int) -> None:
        super().__init__(("127.0.0.1", 0), _Flaky)
        self.fail, self.rng, self.lock = fail, random.Random(seed), threading.Lock()
        self.requests, self.accepted = 0, {}


def run(events: int, fail: float, seed: int, as_json: bool) -> dict[str, Any]:
    """Log `events` events, deliver them all (default retry policy) and report the figures."""
    receiver = _Receiver(fail, seed)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        with tempfile.TemporaryDirectory(prefix="sdi-bench-webhooks-") as tmp:
            settings = load_settings(home=Path(tmp), webhook_url=url, webhook_secret=SECRET)
            with MachineFile(settings.db_path) as db:
                deliver(db, settings)  # registers the endpoint: it receives what is logged from now on
                record(db, [("bench.ping", f"B-{i}", {"n": i}) for i in range(events)])
                started = time.perf_counter()
                counts = deliver(db, settings, wait=3600)
                seconds = time.perf_counter() - started
                ids = {r[0] for r in db.sql("SELECT webhook_id FROM webhook_outbox")}
    finally:
        receiver.shutdown()
    result = {"events": events, "fail_share": fail, "seconds": round(seconds, 2), "requests": receiver.requests,
              "attempts_recorded": counts.attempts, "delivered": counts.delivered, "gave_up": counts.gave_up,
              "lost": len(ids - set(receiver.accepted)), "duplicated_ids": sum(n > 1 for n in receiver.accepted.values())}
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        print(f"{events} events, {fail:.0%} injected failures: {result['seconds']} s, {result['requests']} requests, "
              f"{result['delivered']} delivered, {result['lost']} lost, {result['duplicated_ids']} duplicated ids")
    return result
