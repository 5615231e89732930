"""DraftService: the Python calls the CLI and API use for why / ask / brief / talking points."""

from __future__ import annotations

from typing import Any, Iterator

from sdi.audit.log import AuditLog
from sdi.config import Settings
from sdi.drafting.history import History
from sdi.drafting.kinds import KINDS
from sdi.drafting.kinds.common import Kit, NotFound
from sdi.drafting.run import DraftRun
from sdi.drafting.types import Draft, Sentence
from sdi.errors import SdiError
from sdi.llm.base import ChatBackend
from sdi.llm.registry import load_backend
from sdi.store import MachineFile
from sdi.triggers.rules import load_rules

__all__ = ["DraftService", "NotFound"]


class DraftService:
    """One per process: only long-lived things — settings, the LLM backend (one model in memory), machine file,
    audit log, rules and history; each request gets its own DraftRun."""

    def __init__(self, settings: Settings, db: MachineFile, backend: ChatBackend | None = None,
                 audit: AuditLog | None = None, retriever: Any | None = None) -> None:
        self.settings = settings
        self.db = db
        self.backend = backend or load_backend(settings.llm, settings.llm_kwargs, settings.models_dir)
        self.audit = audit or AuditLog(settings.home)
        self.rules = load_rules(settings.home)
        self.history = History(settings, retriever)

    def warm_up(self) -> None:
        """Open the retriever and run one search now, so the first user's draft does not wait for it."""
        retriever = self.history.retriever()
        if retriever is not None:
            try:
                retriever.retrieve("hydraulic leak", k=1)
            except SdiError:  # the first draft meets the same error and says so in its notes
                pass

    # -- public calls -------------------------------------------------------------------------------------------
    def why(self, opportunity_id: str, user: str | None = None, reveal_contacts: bool = True) -> Draft:
        """Why this opportunity, now: the recommendation and its reasons, every sentence cited."""
        return _drain(self._events("why", user, reveal_contacts, opportunity_id=opportunity_id)[1])

    def ask(self, opportunity_id: str, question: str, conversation_id: str | None = None, user: str | None = None,
            reveal_contacts: bool = True) -> Draft:
        """A grounded answer to a follow-up; the draft's subject carries the conversation_id to continue with."""
        return _drain(self._events("ask", user, reveal_contacts, opportunity_id=opportunity_id, question=question,
                                   conversation_id=conversation_id)[1])

    def brief(self, serial: str, user: str | None = None, reveal_contacts: bool = True) -> Draft:
        """A technician's pre-visit briefing with talking points and a sign-up sheet."""
        return _drain(self._events("brief", user, reveal_contacts, serial=serial)[1])

    def talking_points(self, opportunity_id: str, channel: str = "email", user: str | None = None,
                       reveal_contacts: bool = True) -> Draft:
        """Customer-facing talking points for an e-mail or a call."""
        return _drain(self._events("talking_points", user, reveal_contacts, opportunity_id=opportunity_id,
                                   channel=channel)[1])

    def stream(self, kind: str, **kwargs: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yields ("sentence", sentence_dict) as each sentence passes the check, then ("draft", draft_dict)."""
        if kind not in KINDS:
            raise SdiError(f"unknown draft kind {kind!r}", f"use one of {', '.join(KINDS)}")
        user, reveal = kwargs.pop("user", None), kwargs.pop("reveal_contacts", True)
        run, events = self._events(kind, user, reveal, **kwargs)
        for item in events:
            if isinstance(item, Draft):
                yield "draft", item.to_dict()
            else:  # a streamed sentence is what the user reads: contacts restored exactly as in the final draft
                yield "sentence", run.streamed(item)

    def _events(self, kind: str, user: str | None, reveal_contacts: bool,
                **kwargs: Any) -> tuple[DraftRun, Iterator[Sentence | Draft]]:
        run = DraftRun(kind, user, reveal_contacts, self.backend, self.audit, self.history)
        kit = Kit(self.db, self.history, self.rules.routing.technician_price_limit)
        return run, KINDS[kind](kit, run, **kwargs)


def _drain(events: Iterator[Sentence | Draft]) -> Draft:
    draft = None
    for item in events:
        if isinstance(item, Draft):
            draft = item
    assert draft is not None
    return draft
