"""A response cache for the busiest read routes: opportunity and machine views, per token, dropped on every write.

Lists and details are read far more often than anything changes, and building them (JSON of every opportunity on
the page, scope checks, response validation) is most of a request's CPU while the model drafts on the same cores.
Entries are keyed by the exact Authorization header, path and query, so one user can never receive another's
view; any request that may write (every method but GET/HEAD/OPTIONS, drafting routes aside) empties the cache
before and after it runs, and a view computed while a write ran is not kept.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHED = re.compile(r"^/api/(opportunities|machines)(/[^/]+)?(/telemetry|/facets)?/?$")
# Drafting writes drafts and audit entries only: no opportunity or machine view changes because of it.
DRAFTING = re.compile(r"^/api/(opportunities/[^/]+/(why|ask|talking-points)|briefings/[^/]+)(/stream)?/?$")
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
KEPT_HEADERS = {b"content-type", b"content-length"}


class ResponseCache:
    """Bodies of successful JSON reads, least recently used first out, with a write generation."""

    def __init__(self, max_entries: int = 2048, max_bytes: int = 64 * 2**20) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.generation = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple[bytes, str, bytes], tuple[list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[bytes, str, bytes]) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """The cached headers and body, or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: tuple[bytes, str, bytes], generation: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Keep a response computed at `generation` (ignored if a write happened since)."""
        with self._lock:
            if generation != self.generation or len(body) > self.max_bytes // 8:
                return
            old = self._items.pop(key, None)
            self._bytes += len(body) - (len(old[1]) if old else 0)
            self._items[key] = (headers, body)
            while self._items and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def invalidate(self) -> None:
        """Forget everything (a write is about to happen or just happened)."""
        with self._lock:
            self.generation += 1
            self._items.clear()
            self._bytes = 0


class CacheMiddleware:
    """ASGI middleware serving cached reads and invalidating on writes."""

    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        self.app, self.cache = app, cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method not in READ_METHODS:
            if DRAFTING.match(path):
                await self.app(scope, receive, send)
                return
            self.cache.invalidate()
            try:
                await self.app(scope, receive, send)
            finally:
                self.cache.invalidate()
            return
        if method != "GET" or not CACHED.match(path):
            await self.app(scope, receive, send)
            return
        auth = dict(scope.get("headers") or []).get(b"authorization", b"")
        key = (auth, path, scope.get("query_string", b""))
        hit = self.cache.get(key)
        if hit is not None:
            headers, body = hit
            await send({"type": "http.response.start", "status": 200, "headers": [*headers, (b"x-sdi-cache", b"hit")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self._fill(scope, receive, send, key)

    async def _fill(self, scope: Scope, receive: Receive, send: Send, key: tuple[bytes, str, bytes]) -> None:
        generation = self.cache.generation
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and start["status"] == 200:
                    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() in KEPT_HEADERS]
                    if (b"content-type", b"application/json") in headers:
                        self.cache.put(key, generation, headers, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, capture)
