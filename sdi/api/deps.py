"""Request dependencies: the per-request DB cursor, the signed-in user, role checks, the app's services."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, AsyncIterator, Callable, Coroutine

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sdi.api.cache import ResponseCache
from sdi.api.queue import WorkQueue
from sdi.audit.log import AuditLog
from sdi.config import Settings
from sdi.store import LazyCursor, MachineFile
from sdi.access.policy import may
from sdi.access.users import User, match_token, token_table

TOKEN_CACHE_SECONDS = 5.0


class TokenCache:
    """Users by token hash, reloaded every few seconds and whenever the app changes a user."""

    def __init__(self) -> None:
        self._table: list[tuple[str, User]] = []
        self._loaded = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Reload on the next lookup."""
        self._loaded = 0.0

    def lookup(self, state: "AppState", token: str | None) -> User | None:
        """The token's user (constant-time comparison against every stored hash)."""
        if not token:
            return None
        with self._lock:
            if time.monotonic() - self._loaded > TOKEN_CACHE_SECONDS:
                handle = state.cursor()
                try:
                    self._table = token_table(handle)
                finally:
                    handle.close()
                self._loaded = time.monotonic()
            table = self._table
        return match_token(table, token)


@dataclass
class AppState:
    """What the app holds for its lifetime: settings, the one machine-file connection, audit log, LLM queue."""

    settings: Settings
    db: MachineFile
    audit: AuditLog
    queue: WorkQueue
    owns_db: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: TokenCache = field(default_factory=TokenCache)
    views: ResponseCache = field(default_factory=ResponseCache)
    indexer: Any = None  # the background index (sdi.api.indexing) when the app was created to index

    def cursor(self) -> MachineFile:
        """A handle with its own DuckDB cursor (one per request / thread)."""
        with self.lock:
            return self.db.child()


def get_state(request: Request) -> AppState:
    """The app's state."""
    return request.app.state.sdi


State = Annotated[AppState, Depends(get_state)]


async def get_db(state: State) -> AsyncIterator[MachineFile]:
    """A per-request cursor on the machine file (opened lazily in the route's thread), closed afterwards."""
    handle = LazyCursor(state.db, state.lock)
    try:
        yield handle
    finally:
        handle.close()


Db = Annotated[MachineFile, Depends(get_db)]
bearer = HTTPBearer(auto_error=False, description="A user token from `sdi users add` (or the demo's printout).")


async def current_user(state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    """The user the bearer token belongs to; 401 without a valid one."""
    user = state.tokens.lookup(state, credentials.credentials if credentials else None)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown token: send 'Authorization: Bearer <token>' (create one with: sdi users add)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(action: str) -> Callable[[User], Coroutine[Any, Any, User]]:
    """A dependency that lets through only the roles the policy allows the action (403 for the others)."""

    async def check(user: CurrentUser) -> User:
        if not may(user, action):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {user.role} role may not use this route")
        return user

    return check


Reader = CurrentUser  # every role may read, within its scope (policy.MAY["read"])
Writer = Annotated[User, Depends(require("write"))]
Drafter = Annotated[User, Depends(require("draft"))]
Briefer = Annotated[User, Depends(require("brief"))]
LeadReporter = Annotated[User, Depends(require("report_lead"))]
Auditor = Annotated[User, Depends(require("audit"))]
Admin = Annotated[User, Depends(require("admin"))]


def not_found(what: str) -> HTTPException:
    """404 that does not say whether the object exists outside the user's scope."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found (or not in your scope)")


def audit_action(state: AppState, kind: str, payload: dict[str, Any], user: User) -> str:
    """Append a human action to the audit log; returns the entry id."""
    return state.audit.append(kind, payload, user.name)["id"]
