"""A loopback webhook receiver for the tests: checks signatures with its own reading of the Standard Webhooks spec,
and misbehaves on purpose (500, a timeout, 429 with Retry-After, 410) before it accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """v1,<base64 HMAC-SHA256 over 'id.timestamp.body'> with the base64-decoded part of whsec_… as key."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


@dataclass
class Hit:
    """One request as the receiver saw it."""

    webhook_id: str
    at: float
    answer: int
    signed_ok: bool
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next planned answer ('500', 'slow', '429:<seconds>', '410'), then 200."""

    secret: str
    slow_seconds: float = 2.0
    plan: deque[str] = field(default_factory=deque)
    hits: list[Hit] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                receiver.handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sdi-events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        """Verify, pick the planned answer, record, reply."""
        body = req.rfile.read(int(req.headers.get("content-length", 0)))
        wid, stamp = req.headers.get("webhook-id", ""), req.headers.get("webhook-timestamp", "")
        signed_ok = any(hmac.compare_digest(s, spec_signature(self.secret, wid, stamp, body))
                        for s in req.headers.get("webhook-signature", "").split(" "))
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
        with self.lock:
            action = self.plan.popleft() if self.plan else "200"
        headers: dict[str, str] = {}
        if not (signed_ok and fresh):
            code = 401
        elif action == "slow":
            time.sleep(self.slow_seconds)  # the sender has given up by now; this answer is never read
            code = 503
        elif action.startswith("429:"):
            code, headers["retry-after"] = 429, action.split(":")[1]
        else:
            code = int(action)
        with self.lock:
            self.hits.append(Hit(wid, time.monotonic(), code, signed_ok and fresh, body))
            if code == 200:
                self.accepted[wid] = self.accepted.get(wid, 0) + 1
        req.send_response(code)
        for name, value in headers.items():
            req.send_header(name, value)
        req.send_header("content-length", "0")
        req.end_headers()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
