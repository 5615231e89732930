"""Unknown addresses: people get the web UI's 404 page, API clients keep their JSON 404."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, Response
from starlette.exceptions import HTTPException

# Paths that belong to programs, not people: their 404 stays {"detail": ...} whatever the client accepts.
JSON_PATHS = ("/api/", "/health", "/openapi.json", "/docs")


def wants_page(request: Request) -> bool:
    """Whether a 404 here should be the HTML page: outside the API, unless the client asks for JSON only."""
    path = request.url.path
    if path == "/api" or path.startswith(JSON_PATHS):
        return False
    accept = request.headers.get("accept", "")
    return not accept or "text/html" in accept or "*/*" in accept


def install(app: FastAPI, page: Path, csp: str) -> None:
    """Serve `page` (the UI's 404.html, under the UI's content security policy) for 404s that people see."""

    async def handle(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and wants_page(request):
            return FileResponse(page, status_code=404, media_type="text/html",
                                headers={"content-security-policy": csp, "cache-control": "no-store"})
        return await http_exception_handler(request, exc)

    app.add_exception_handler(HTTPException, handle)  # type: ignore[arg-type]
