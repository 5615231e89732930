"""The app factory: API routes, offline docs, the static web UI, security headers, the LLM queue's lifetime."""

from __future__ import annotations

import inspect
import logging
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sdi import __version__
from sdi.api import errors, notfound
from sdi.api.deps import AppState
from sdi.api.cache import CacheMiddleware
from sdi.api.queue import WorkQueue
from sdi.api.routes import ROUTERS
from sdi.audit.log import AuditLog
from sdi.config import Settings
from sdi.loop.webhooks import Deliverer
from sdi.store import MachineFile

log = logging.getLogger("sdi.api")
STATIC = Path(str(resources.files("sdi.api") / "static"))
MAX_BODY_BYTES = 8 * 2**20  # a lead's photo (5 MB) base64-encoded, plus the form
UI_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
          "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
DESCRIPTION = """Service Decision Intelligence: opportunities found by deterministic triggers, cited drafts from a local LLM.

Authenticate with `Authorization: Bearer <token>` (tokens come from `sdi users add` or the demo's printout).
Scope is enforced on every route: sales reps see their territory, technicians their assigned machines and the
opportunities they own, compliance reviewers read drafts and audit records, admins everything. Out-of-scope
objects answer 404; routes a role may not use answer 403. LLM work is queued; a full queue answers 429 with
Retry-After."""


class Guard:
    """ASGI middleware: security headers on every response, and any uncaught error turned into a JSON 4xx/5xx."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        ui = scope["path"].startswith("/ui") or scope["path"] == "/"
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            response = JSONResponse({"detail": f"request body too large or malformed length (limit {MAX_BODY_BYTES // 2**20} MB)",
                                     "hint": "send a smaller photo"}, status_code=413)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"DENY")]
                if ui:
                    headers.append((b"content-security-policy", UI_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started:
                raise
            response = errors.error_response(exc, f"{scope.get('method')} {scope.get('path')}")
            await response(scope, receive, send_with_headers)


def _open_db(settings: Settings) -> MachineFile:
    return MachineFile.for_settings(settings)


def _prepare(db: MachineFile, settings: Settings) -> None:
    """Opportunities, if detection never ran (the store creates every table when the file opens)."""
    from sdi.triggers.service import ensure_opportunities

    ensure_opportunities(db, settings.home)


def serving_backend(settings: Settings) -> Any:
    """The configured model, a local one on all cores but one, so request handling keeps a core while it drafts.

    With as many llama.cpp threads as cores, any other load descheduling one of them stalls every token
    (measured on 2 cores under load: 2 threads 7-55 s, 1 thread 3.5-12 s for the same completion).
    """
    import os

    from sdi.llm.registry import load_backend

    threads = max(1, (os.cpu_count() or 2) - 1)
    return load_backend(settings.llm, settings.llm_kwargs, settings.models_dir, threads=threads)


def _draft_factory(settings: Settings, state_db: MachineFile, audit: AuditLog, drafts: Any) -> Callable[[], Any]:
    if drafts is not None:
        return lambda: drafts

    def build() -> Any:
        from sdi.drafting.service import DraftService

        return DraftService(settings, state_db, backend=serving_backend(settings), audit=audit)

    return build


def create_app(settings: Settings, db: MachineFile | None = None, drafts: Any | None = None,
               queue_size: int | None = None, index: Callable[[str], None] | None = None) -> FastAPI:
    """The SDI app over one machine file (opened here unless given) and one DraftService (built lazily unless given).

    With `index` (where its progress lines go), the app brings the search index up to date in the background
    while it serves (sdi.api.indexing).
    """
    owns_db = db is None
    db = db or _open_db(settings)
    _prepare(db, settings)
    audit = AuditLog(settings.home)
    worker_db = db.child()  # the worker thread's own cursor: DuckDB handles are not shared across threads
    queue = WorkQueue(_draft_factory(settings, worker_db, audit, drafts), queue_size or settings.api_queue_size)
    state = AppState(settings, db, audit, queue, owns_db)
    webhooks = Deliverer(db.child(), settings)  # its own cursor, like the draft worker; idle unless an endpoint is set
    if index is not None:
        from sdi.api.indexing import background_indexer

        state.indexer = background_indexer(settings, db, queue, index)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        queue.start()
        webhooks.start()
        if state.indexer is not None:
            state.indexer.start()
        try:
            yield
        finally:
            if state.indexer is not None:  # first: a draft waiting for its machine's records goes on
                state.indexer.stop()
            webhooks.stop()
            queue.stop()
            if state.owns_db:
                state.db.close()

    app = FastAPI(title="SDI – Service Decision Intelligence", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, lifespan=lifespan, **_no_telemetry())
    app.state.sdi = state
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    _mount_docs(app)
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")  # html: /ui/… misses get 404.html
    notfound.install(app, STATIC / "404.html", UI_CSP)  # and so do other addresses outside the API

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.add_middleware(CacheMiddleware, cache=state.views)
    app.add_middleware(Guard)
    return app


def _no_telemetry() -> dict[str, Any]:
    """FastAPI's built-in OpenTelemetry spans and metrics off (newer FastAPI only): no exporter, no per-request cost."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                          "auto_configure": False}}


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI served from the installed package (no CDN)."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="SDI API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")


def login_url(settings: Settings, token: str, host: str | None = None, port: int | None = None) -> str:
    """A link that signs a browser in with a token (the UI stores it and removes it from the address bar)."""
    return f"http://{host or settings.host}:{port or settings.port}/ui/?token={token}"
