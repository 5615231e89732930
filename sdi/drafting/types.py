"""The draft shape shared by the CLI, API, UI and audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Origin = Literal["llm", "template"]
Kind = Literal["why", "ask", "brief", "talking_points"]


@dataclass
class Source:
    """A numbered source shown to the model: T = trigger fact, H = history chunk; `text` is exactly what it saw."""

    id: str  # "T1", "H2"
    source_id: str  # "contract:C-1042", "service_record:SR-5531#c0"
    text: str
    scope: str = "own"  # "own" machine or "similar" (other machine of the same model)
    span: tuple[int, int] | None = None  # character span of `text` in the original record
    record_ids: list[str] = field(default_factory=list)  # records behind a trigger fact


@dataclass
class Sentence:
    """One sentence of a draft with the sources it cites."""

    text: str
    citations: list[str]
    origin: Origin
    section: str = "body"  # brief sections: summary, triggers, history, checks, talking_points


@dataclass
class Check:
    """What the citation check did."""

    checked: int = 0
    passed: int = 0
    cut: int = 0  # of the passed: kept as their first clause, the rest of the sentence having failed
    repaired: int = 0
    dropped: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)  # {"text", "reason"} of each rejected LLM sentence


@dataclass
class Draft:
    """A cited draft: every sentence traceable to a numbered source."""

    kind: Kind
    subject: dict[str, Any]  # {"opportunity_id", "serial", "question"?}
    sentences: list[Sentence]
    sources: list[Source]
    model: dict[str, Any]  # {"backend", "name", "sha256"}
    prompt: dict[str, Any]  # {"name", "version", "sha256"}
    check: Check
    sign_up_sheet: list[dict[str, Any]] = field(default_factory=list)
    audit_id: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "3 sentences replaced by template text"
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The fixed JSON shape."""
        data = asdict(self)
        for src in data["sources"]:
            src["span"] = list(src["span"]) if src["span"] else None
        return data
