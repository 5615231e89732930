"""Server-sent events for streamed drafts: `queued`, `sentence`…, `draft`, `done`; failures as `error`."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from fastapi import Request
from fastapi.responses import StreamingResponse

from sdi.api.errors import log, payload_for, status_for
from sdi.api.queue import Job, WorkQueue

KEEPALIVE_SECONDS = 10.0


def event(name: str, data: Any) -> bytes:
    """One SSE frame."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n".encode("utf-8")


async def _frames(request: Request, job: Job, queue: WorkQueue) -> AsyncIterator[bytes]:
    assert job.events is not None
    yield event("queued", {"waiting": queue.waiting, "running": queue.running})
    finished = False
    try:
        while True:
            try:
                name, data = await asyncio.wait_for(job.events.get(), KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                if await request.is_disconnected():
                    return
                yield b": keep-alive\n\n"
                continue
            if name == "end":
                finished = True
                yield event("done", {})
                return
            if name == "error":
                finished = True
                if status_for(data) >= 500:
                    log.error("streamed draft failed", exc_info=data)
                yield event("error", payload_for(data))
                return
            yield event(name, data)
    finally:
        if not finished:
            job.cancelled = True  # the client went away: the worker stops after the current sentence


def sse_response(request: Request, job: Job, queue: WorkQueue) -> StreamingResponse:
    """A text/event-stream response that relays a queued job's events."""
    return StreamingResponse(
        _frames(request, job, queue),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
