"""Cited drafts through the LLM queue: why, ask (multi-turn), talking points, briefings; JSON or streamed over SSE."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import StreamingResponse

from sdi.api.deps import Briefer, Db, Drafter, State, not_found
from sdi.api.schemas import AskRequest, DraftPublic, TalkingPointsRequest
from sdi.api.scope import can_see_machine, can_see_opportunity, shows_contacts
from sdi.api.sse import sse_response
from sdi.access.users import User

router = APIRouter(tags=["drafts"])
SSE = {200: {"content": {"text/event-stream": {}},
             "description": "Events: `queued`, `sentence` (JSON, as each passes the citation check), `draft` (JSON), "
                            "`done`; or `error` ({detail, hint, status})."},
       429: {"description": "The drafting queue is full; see Retry-After."}}
JSON_429 = {429: {"description": "The drafting queue is full; see Retry-After."}}


def visible_opportunity(opportunity_id: Annotated[str, Path(max_length=100)], user: Drafter, db: Db) -> str:
    """The opportunity id when it is in the user's scope, else 404."""
    if not can_see_opportunity(db, user, opportunity_id):
        raise not_found("opportunity")
    return opportunity_id


def visible_machine(serial: Annotated[str, Path(max_length=100)], user: Briefer, db: Db) -> str:
    """The serial when the machine is in the user's scope, else 404."""
    if not can_see_machine(db, user, serial):
        raise not_found("machine")
    return serial


OppId = Annotated[str, Depends(visible_opportunity)]
Serial = Annotated[str, Depends(visible_machine)]


def _kwargs(user: User) -> dict[str, Any]:
    return {"user": user.name, "reveal_contacts": shows_contacts(user)}


async def _run(state: State, call: Callable[[Any], Any]) -> dict[str, Any]:
    return await asyncio.wrap_future(state.queue.submit(lambda svc: call(svc).to_dict()))


def _stream(request: Request, state: State, kind: str, **kwargs: Any) -> StreamingResponse:
    job = state.queue.submit_stream(lambda svc: svc.stream(kind, **kwargs))
    return sse_response(request, job, state.queue)


@router.post("/api/opportunities/{opportunity_id}/why", response_model=DraftPublic, responses=JSON_429)
async def why(opportunity_id: OppId, user: Drafter, state: State) -> dict[str, Any]:
    """Why this opportunity, now: recommendation and reasons, every sentence cited ([T] trigger facts, [H] history)."""
    return await _run(state, lambda svc: svc.why(opportunity_id, **_kwargs(user)))


@router.post("/api/opportunities/{opportunity_id}/why/stream", response_class=StreamingResponse, responses=SSE)
async def why_stream(opportunity_id: OppId, user: Drafter, state: State, request: Request) -> StreamingResponse:
    """The why-draft streamed: sentences arrive as they pass the citation check."""
    return _stream(request, state, "why", opportunity_id=opportunity_id, **_kwargs(user))


@router.post("/api/opportunities/{opportunity_id}/ask", response_model=DraftPublic, responses=JSON_429)
async def ask(opportunity_id: OppId, body: AskRequest, user: Drafter, state: State) -> dict[str, Any]:
    """A grounded answer to a follow-up; pass back `subject.conversation_id` to continue the conversation."""
    return await _run(state, lambda svc: svc.ask(opportunity_id, body.question, body.conversation_id, **_kwargs(user)))


@router.post("/api/opportunities/{opportunity_id}/ask/stream", response_class=StreamingResponse, responses=SSE)
async def ask_stream(opportunity_id: OppId, body: AskRequest, user: Drafter, state: State, request: Request) -> StreamingResponse:
    """The answer streamed sentence by sentence."""
    return _stream(request, state, "ask", opportunity_id=opportunity_id, question=body.question,
                   conversation_id=body.conversation_id, **_kwargs(user))


@router.post("/api/opportunities/{opportunity_id}/talking-points", response_model=DraftPublic, responses=JSON_429)
async def talking_points(opportunity_id: OppId, body: TalkingPointsRequest, user: Drafter, state: State) -> dict[str, Any]:
    """Customer-facing talking points for an e-mail or a call (advise and explain, never push)."""
    return await _run(state, lambda svc: svc.talking_points(opportunity_id, body.channel, **_kwargs(user)))


@router.post("/api/opportunities/{opportunity_id}/talking-points/stream", response_class=StreamingResponse, responses=SSE)
async def talking_points_stream(opportunity_id: OppId, body: TalkingPointsRequest, user: Drafter, state: State,
                                request: Request) -> StreamingResponse:
    """Talking points streamed."""
    return _stream(request, state, "talking_points", opportunity_id=opportunity_id, channel=body.channel, **_kwargs(user))


@router.post("/api/briefings/{serial}", response_model=DraftPublic, responses=JSON_429)
async def briefing(serial: Serial, user: Briefer, state: State) -> dict[str, Any]:
    """A technician's pre-visit briefing for a machine: summary, triggers, history, checks, talking points, sign-up sheet."""
    return await _run(state, lambda svc: svc.brief(serial, **_kwargs(user)))


@router.post("/api/briefings/{serial}/stream", response_class=StreamingResponse, responses=SSE)
async def briefing_stream(serial: Serial, user: Briefer, state: State, request: Request) -> StreamingResponse:
    """The briefing streamed."""
    return _stream(request, state, "brief", serial=serial, **_kwargs(user))
