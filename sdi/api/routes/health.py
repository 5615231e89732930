"""Liveness (no auth) and who-am-I."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sdi import __version__
from sdi.access.policy import ABILITIES
from sdi.api.deps import CurrentUser, State
from sdi.api.indexing import index_progress
from sdi.api.schemas import Health

router = APIRouter(tags=["health"])

@router.get("/health", response_model=Health)
def health(state: State) -> dict[str, Any]:
    """Liveness, the drafting queue and the search index's progress (no token needed)."""
    views = state.views
    return {"status": "ok", "version": __version__, "drafting": state.queue.stats(),
            "view_cache": {"hits": views.hits, "misses": views.misses, "entries": len(views)},
            "index": index_progress(state.indexer)}


@router.get("/api/me")
def me(user: CurrentUser, state: State) -> dict[str, Any]:
    """The signed-in user, what their role may do (the UI builds its menu from this) and the company's name."""
    return user.to_dict() | {"can": ABILITIES[user.role], "company": state.settings.company_name}
