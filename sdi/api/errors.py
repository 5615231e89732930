"""Errors to HTTP: user errors are 4xx with a message and a hint, a full queue is 429 with Retry-After."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sdi.api.queue import DraftingUnavailable, QueueFull
from sdi.drafting.service import NotFound
from sdi.errors import SdiError

log = logging.getLogger("sdi.api")

# DuckDB errors caused by the request's values (e.g. a number out of range), not by the server.
_DB_INPUT_ERRORS = {"ConversionException", "InvalidInputException", "OutOfRangeException", "BinderException"}


def status_for(exc: BaseException) -> int:
    """The HTTP status an exception stands for."""
    if isinstance(exc, QueueFull):
        return 429
    if isinstance(exc, DraftingUnavailable):
        return 503
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, SdiError):
        return 400
    name = type(exc).__name__
    if type(exc).__module__.startswith(("duckdb", "_duckdb")):
        if name == "TransactionException":
            return 409
        if name in _DB_INPUT_ERRORS:
            return 400
    return 500


def payload_for(exc: BaseException) -> dict[str, Any]:
    """The JSON body (and SSE `error` data) for an exception."""
    code = status_for(exc)
    if isinstance(exc, SdiError):
        body: dict[str, Any] = {"detail": exc.message, "hint": exc.hint}
    elif code == 409:
        body = {"detail": "another change to the same record happened at the same moment", "hint": "retry the request"}
    elif code == 400:
        body = {"detail": f"the request's values could not be used: {str(exc).splitlines()[0][:300]}", "hint": None}
    else:
        body = {"detail": "internal error; it was logged", "hint": None}
    if isinstance(exc, QueueFull):
        body["retry_after"] = exc.retry_after
    return body | {"status": code}


def _headers(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, QueueFull):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, DraftingUnavailable):
        return {"Retry-After": "30"}
    return {}


def error_response(exc: BaseException, where: str = "") -> JSONResponse:
    """The JSON response for an exception (server errors are logged with their traceback)."""
    code = status_for(exc)
    if code >= 500:
        log.error("error on %s", where, exc_info=exc)
    body = payload_for(exc)
    body.pop("status")
    return JSONResponse(body, status_code=code, headers=_headers(exc))


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return error_response(exc, f"{request.method} {request.url.path}")


def install(app: FastAPI) -> None:
    """Register the handler for user errors (everything else is caught by the app's middleware)."""
    app.add_exception_handler(SdiError, _handle)
