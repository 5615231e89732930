"""DraftService: the Python calls the CLI and API use for why / ask / brief / talking points (being implemented)."""

from __future__ import annotations

from typing import Any, Iterator

from sdi.audit import AuditLog
from sdi.config import Settings
from sdi.drafting.types import Draft
from sdi.errors import SdiError
from sdi.machine_file import MachineFile


class NotFound(SdiError):
    """The opportunity, machine or conversation does not exist (the API answers 404)."""


class DraftService:
    """One per process: holds the LLM backend (one model in memory), the machine file and the audit log."""

    def __init__(self, settings: Settings, db: MachineFile, backend: Any | None = None, audit: AuditLog | None = None) -> None:
        raise NotImplementedError

    def why(self, opportunity_id: str, user: str | None = None) -> Draft:
        """Why this opportunity, now: the recommendation and its reasons, every sentence cited."""
        raise NotImplementedError

    def ask(self, opportunity_id: str, question: str, conversation_id: str | None = None, user: str | None = None) -> Draft:
        """A grounded answer to a follow-up; the draft's subject carries the conversation_id to continue with."""
        raise NotImplementedError

    def brief(self, serial: str, user: str | None = None) -> Draft:
        """A technician's pre-visit briefing with talking points and a sign-up sheet."""
        raise NotImplementedError

    def talking_points(self, opportunity_id: str, channel: str = "email", user: str | None = None) -> Draft:
        """Customer-facing talking points for an e-mail or a call."""
        raise NotImplementedError

    def stream(self, kind: str, **kwargs: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yields ("sentence", sentence_dict) as each sentence passes the check, then ("draft", draft_dict)."""
        raise NotImplementedError
