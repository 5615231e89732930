"""Request (Create) and response (Public) schemas: requests are strict, responses document the JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sdi.access.users import ROLES


def _clean(value: str) -> str:
    """Reject NUL and other C0 control characters (except tab and newlines) and lone surrogates."""
    for ch in value:
        code = ord(ch)
        if (code < 32 and ch not in "\t\n\r") or 0xD800 <= code <= 0xDFFF:
            raise ValueError("contains control characters or invalid unicode")
    return value


Text = Annotated[str, AfterValidator(_clean)]
Role = Literal["sales_rep", "technician", "compliance", "admin"]
assert set(ROLES) == {"sales_rep", "technician", "compliance", "admin"}


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Public(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- requests -------------------------------------------------------------------------------------------------


class UserCreate(_Create):
    """A new user; sales reps need a territory, technicians may get assigned serials."""

    name: Text = Field(min_length=1, max_length=80)
    role: Role
    territory: Text | None = Field(None, max_length=80)
    serials: list[Annotated[Text, Field(min_length=1, max_length=80)]] = Field(default_factory=list, max_length=5000)


class StatusUpdate(_Create):
    """Move an opportunity through its workflow."""

    status: Literal["open", "in_progress", "dismissed"]
    note: Text | None = Field(None, max_length=2000)


class OutcomeCreate(_Create):
    """What became of an opportunity."""

    result: Literal["won", "lost", "lost_to_partner"]
    value: float | None = Field(None, ge=0, le=1e12, description="Order value (won) in `currency`.")
    currency: Text | None = Field(None, min_length=3, max_length=3)
    discount_pct: float | None = Field(None, ge=0, le=100, description="Discount given, % of list price.")
    partner: Text | None = Field(None, max_length=200, description="Required when lost to a partner.")
    reason: Text = Field("", max_length=2000, description="Required when lost.")


class AskRequest(_Create):
    """A follow-up question in the opportunity chat."""

    question: Text = Field(min_length=1, max_length=500)
    conversation_id: Text | None = Field(None, max_length=100)


class TalkingPointsRequest(_Create):
    """Customer-facing talking points for an e-mail or a call."""

    channel: Literal["email", "call"] = "email"


class PhotoUpload(_Create):
    """An optional photo with a lead, base64-encoded."""

    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    data_base64: str = Field(min_length=4, max_length=7_000_000, pattern=r"^[A-Za-z0-9+/=\s]+$")
    filename: Text | None = Field(None, max_length=200)


class LeadCreate(_Create):
    """A technician's lead: machine, what was observed, what the customer wants, optional offer and photo."""

    serial: Text = Field(min_length=1, max_length=80)
    observed: Text = Field(min_length=1, max_length=4000)
    customer_wants: Text = Field("", max_length=4000)
    offer_id: Text | None = Field(None, max_length=80, description="An offer from the sign-up sheet, if one fits.")
    photo: PhotoUpload | None = None


class IngestRequest(_Create):
    """Import export files on the server through a mapping file."""

    mapping: Text = Field(min_length=1, max_length=1000, description="Path of a mapping YAML on the server.")
    run_triggers: bool = True


class WebhookReplayRequest(_Create):
    """Queue logged events again for the webhook endpoints (same webhook-id: receivers drop what they have)."""

    since: datetime = Field(description="Events that occurred at or after this time (UTC; a date means its midnight).")
    endpoint: Text | None = Field(None, max_length=2000, description="Only this configured endpoint URL.")


class WebhookEnableRequest(_Create):
    """Re-enable an endpoint that answered 410 Gone."""

    url: Text = Field(min_length=1, max_length=2000)


# --- responses ------------------------------------------------------------------------------------------------


class Health(BaseModel):
    """Liveness, the drafting queue's state and the search index's progress."""

    status: str
    version: str
    drafting: dict[str, Any]
    view_cache: dict[str, int]
    index: dict[str, Any]


class UserPublic(_Public):
    """A user as others see it (never the token or its hash)."""

    name: str
    role: str
    territory: str | None = None
    serials: list[str] = []
    created_at: str | None = None


class UserCreated(UserPublic):
    """A freshly created user with its token (shown only once)."""

    token: str


class Phrase(BaseModel):
    """A sentence: English `text` with {name} slots, each slot's typed value in `args` ({num, digits} | {date} |
    {money, currency} | {text}) for formatting in the reader's locale, and `plain`, the sentence in English."""

    text: str
    args: dict[str, dict[str, Any]] = {}
    plain: str


class PriorityExplained(BaseModel):
    """Why the priority is what it is: level (high, medium, low), one sentence, and per factor its value (0..1),
    weight and the priority points it adds."""

    level: str
    sentence: Phrase
    factors: list[dict[str, Any]]


class RoutingExplained(BaseModel):
    """Who owns the opportunity and why, in one sentence (`stored`: the reason recorded when it was routed)."""

    sentence: Phrase
    stored: bool = False


class OpportunitySummary(_Public):
    """An opportunity in a list: priority (explained), campaign, rules (badges), owner."""

    id: str
    serial: str
    campaign: str | None = None
    rules: list[str] = []
    priority: float | None = None
    status: str
    owner: str | None = None
    owner_role: str | None = None
    source: str = "trigger"
    priority_factors: dict[str, float] = {}
    priority_explained: PriorityExplained | None = None


class OpportunityPage(BaseModel):
    """One page of opportunities."""

    total: int
    limit: int
    offset: int
    items: list[OpportunitySummary]


class OpportunityPublic(_Public):
    """A full opportunity: triggers with condition (field, operator, threshold, value, unit and its `sentence`, a
    Phrase) and evidence source ids; the priority and the routing explained."""

    id: str
    serial: str
    status: str
    triggers: list[dict[str, Any]]
    outcomes: list[dict[str, Any]] = []
    priority_factors: dict[str, float] = {}
    priority_explained: PriorityExplained | None = None
    routing: RoutingExplained | None = None


class DraftPublic(_Public):
    """A cited draft (the fixed `Draft.to_dict()` shape)."""

    kind: str
    subject: dict[str, Any]
    sentences: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    model: dict[str, Any]
    prompt: dict[str, Any]
    check: dict[str, Any]
    audit_id: str | None = None


class LeadPublic(_Public):
    """A stored lead with its opportunity and the time from report to first action."""

    id: str
    serial: str
    observed: str
    reporter: str
    reported_at: str
    opportunity_id: str
    owner: str
    owner_role: str = Field(description="technician, sales_rep, or admin when no sales rep in SDI can see the machine.")
    routing_reason: str | None = Field(None, description="Why it went to its owner, in words (None for leads older than reasons).")
    hours_to_first_action: float | None = None


class LeadList(BaseModel):
    """Leads and report-to-first-action figures."""

    items: list[LeadPublic]
    stats: dict[str, Any]


class OutcomePublic(_Public):
    """A recorded outcome."""

    id: int
    opportunity_id: str
    result: str
    recorded_by: str
    recorded_at: str


class AuditEntry(_Public):
    """One audit log entry (hash-chained)."""

    id: str
    seq: int
    ts: str
    kind: str
    user: str | None = None
    payload: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    """Audit entries, newest first, with the whole log's kinds (entry counts) and users for the filters."""

    total: int
    items: list[AuditEntry]
    kinds: dict[str, int] = Field(default_factory=dict)
    users: list[str] = Field(default_factory=list)


class ReviewCreate(_Create):
    """A reviewer's mark on a draft: reviewed, with an optional note."""

    note: Text | None = Field(None, max_length=2000)


class ReviewPublic(BaseModel):
    """The review just recorded (its own audit entry) and every review of the draft."""

    audit_id: str
    draft: str
    reviews: list[dict[str, Any]]


class VerifyPublic(BaseModel):
    """The chain re-walked from the browser: intact or the first bad entry, in words."""

    ok: bool
    entries: int
    first_bad_entry: str | None = None
    message: str
    note: str = ""
    audit_id: str | None = None


class DraftSummary(_Public):
    """A draft in the compliance list."""

    audit_id: str
    ts: str
    user: str | None = None
    kind: str | None = None
    reviews: list[dict[str, Any]] = Field(default_factory=list, description="Reviewers' marks {audit_id, by, at, note}.")


class DraftPage(BaseModel):
    """Drafts, newest first."""

    total: int
    items: list[DraftSummary]


class Page(BaseModel):
    """A generic page of items."""

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


class MachinePage(Page):
    """A page of machines in the order asked for, with the data's as-of date that due dates are counted from."""

    sort: str
    as_of: str


class Message(BaseModel):
    """A short confirmation or error message."""

    detail: str
