"""Question-aware retrieval for `ask`: classify a rep's question, then find the records that can answer it.

Intents, tried in this order (the first that matches wins; codes and named parts always narrow the search):
  request         what the customer asked for, wanted, requested; quotes and offers
  recommendation  what the technician recommended, suggested, advised
  last_visit      the latest visit / service / what was done last  -> the newest records by date, not by similarity
  code            an error code or part number                     -> records containing it exactly first
  component       a named part or assembly                         -> records naming it first
  general         anything else                                    -> the plain hybrid search for the question
English and German, with the abbreviations technicians write ("cust asked", "rec.", "Kd. wünscht Angebot").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Sequence

import numpy as np

from retrieval.catalog import Catalog, Filters
from retrieval.chunking import error_codes, part_numbers
from retrieval.keyword import tokenize
from retrieval.search import Hit, Mode, row_hit

Intent = Literal["request", "recommendation", "last_visit", "code", "component", "general"]
INTENTS: tuple[str, ...] = ("request", "recommendation", "last_visit", "code", "component", "general")
SCAN_MAX = 20_000  # allowed chunks up to which every one is scanned for request / recommendation language
POOL_MIN = 20  # search candidates re-ranked per question

_I = re.IGNORECASE
# ------------------------------------------------------------------ what the question asks
_ASK_Q = re.compile(
    r"\b(ask(?:s|ed|ing)?|want(?:s|ed)?|wish(?:es|ed)?|request(?:s|ed)?|quot(?:e|es|ed|ation)|offers?|rfq|"
    r"would like|wünsch\w*|möchte\w*|wollte\w*|angebot\w*|anfrage\w*|angefragt|gefragt|fragt\w*|bat|bittet|"
    r"bestell\w*)\b", _I)
_RECOMMEND_Q = re.compile(
    r"\b(recommend\w*|rec\.|suggest\w*|advi[sc]\w*|propos\w*|empf[aä]hl\w*|empfehl\w*|empfohlen|vorgeschlagen|"
    r"vorschlag\w*|geraten|riet)", _I)
_LAST_Q = re.compile(
    r"\b(last|latest|most recent|recent(?:ly)?|newest|previous|letzte[nmrs]?|zuletzt|jüngste[nmrs]?|neueste[nmrs]?)\b",
    _I)
# ------------------------------------------------------------------ what a record must say to answer
_WHO = r"(?:cust(?:omer)?s?|client|kunde[n]?|kd|production manager|plant manager|maintenance manager|shift supervisor|" \
       r"operator|owner|betreiber|they)"
REQUEST_CUE = re.compile(
    rf"\b{_WHO}\.?\s+(?:[\w.,]+\s+){{0,4}}?(?:ask(?:s|ed)?|want(?:s|ed)?|request(?:s|ed)?|would like|needs?|wish(?:es)?|"
    r"wünscht|möchte|fragt|fragte|bittet|bat|will|braucht)\b|"
    r"\b(?:quote|quotation|offer|rfq|angebot|anfrage|kostenvoranschlag)\b|\b(?:customer|cust)\.? requested\b", _I)
_RECOMMEND = (r"recomm?e?n?d\w*|recom|reco|rec\.|suggest\w*|advi[sc]\w*|propos\w*|empf[aä]hl\w*|empfehl\w*|empfohlen|"
              r"vorgeschlagen")
RECOMMENDED = re.compile(rf"\b(?:{_RECOMMEND})", _I)  # a recommendation said in so many words
RECOMMEND_CUE = re.compile(rf"\b(?:{_RECOMMEND}|should be|to be replaced|raten|geraten)", _I)  # … or work still due
# How technicians write a request or a recommendation: extra queries for the dense and keyword sides.
REQUEST_PHRASES = (
    "customer asked for quote", "cust asked about price", "customer wants offer", "customer requested",
    "quote to follow", "Kunde wünscht Angebot",
)
RECOMMEND_PHRASES = ("recommend replacement", "technician recommends", "advised to replace", "Empfehlung: tauschen")

# Named parts and assemblies (English, German, technicians' short forms); each row one component, synonyms together.
COMPONENTS: tuple[tuple[str, ...], ...] = tuple(tuple(line.split()) for line in """
pump pumps pumpe hydraulikpumpe
cylinder cylinders cyl zylinder
valve valves ventil proportional
sensor sensors sensorik
filter filters filtern
bearing bearings lager
hose hoses schlauch
seal seals dichtung
belt belts riemen zahnriemen
motor motors
gearbox getriebe
nozzle nozzles düse
lens linse
glass
curtain lichtvorhang
punch punches stempel
stripper abstreifer
tool tools werkzeug
encoder geber
gauge anschlag
chiller kühler cooler
resonator
spindle spindel
turret revolver
clamp clamps
gripper greifer
cup cups sauger
cable kabel
accumulator speicher
compressor kompressor
radiator
battery batterie
starter anlasser
engine engines
tooth teeth zahn
bucket
adaptor adapter adaptors adapters
shroud shrouds
lip
boom
track tracks kette
turbo turbocharger
fan lüfter
pin pins bolzen
bushing bushings buchse
ram stößel
guide guides führung
drive antrieb
axis achse
""".strip().splitlines())
_COMPONENT_OF = {word: row for row in COMPONENTS for word in row}
# Words that say what kind of question it is, not what it is about.
QUESTION_WORDS = frozenset("""
what when which where who whom whose why how did does do was were is are has have had any ever there here
customer customers cust client kunde kunden technician tech service engineer we you they he she
ask asks asked asking want wants wanted wish request requested requests would like need needs quote offer
recommend recommended recommends recommendation suggest suggested advise advised advice propose proposed
last latest most recent recently newest previous time visit visits visited done performed carried out call
happen happened machine record records note notes history anything something status doing going ever
was wann wer wie hat haben der die das den dem ein eine einen zuletzt letzte letzten letzter besuch einsatz
wünscht wünschte möchte angebot anfrage angefragt gefragt fragt empfohlen empfehlung gemacht war kunde techniker maschine
about for on of to at this that
""".split())


class SearcherLike(Protocol):
    """What question retrieval needs of a searcher (the real one and the in-memory fake)."""

    def catalog(self) -> Catalog: ...

    def search(self, queries: str | Sequence[str], filters: Filters | None = None, k: int = 5,
               mode: Mode = "hybrid") -> list[Hit]: ...


@dataclass(frozen=True)
class QuestionPlan:
    """How to retrieve for one question: its intent, the queries, its subject words and what answers must contain."""

    question: str
    intent: Intent
    queries: list[str]
    topic: str = ""  # the question's own subject words ("" when it names none)
    exact: list[str] = field(default_factory=list)  # codes, part numbers or component words an answer should contain


def _codes(question: str) -> list[str]:
    return error_codes(question.upper()) + [p for p in part_numbers(question) if p not in error_codes(question.upper())]


def components(question: str) -> list[str]:
    """The named parts in a question, with their synonyms and short forms ('cylinder' -> cylinder, cyl, zylinder)."""
    out: list[str] = []
    for word in re.findall(r"[^\W\d_]+", question.lower()):
        for w in _COMPONENT_OF.get(word, ()):
            if w not in out:
                out.append(w)
    return out


def classify(question: str) -> Intent:
    """The question's intent, deterministically (see the module docstring for the order)."""
    if _RECOMMEND_Q.search(question):
        return "recommendation"
    if _ASK_Q.search(question):
        return "request"
    if _LAST_Q.search(question):
        return "last_visit"
    if _codes(question):
        return "code"
    if components(question):
        return "component"
    return "general"


def topic_words(question: str) -> str:
    """The question's subject: its tokens without question and intent words ('' when nothing is left)."""
    kept = [t for t in tokenize(question) if t not in QUESTION_WORDS]
    return " ".join(t for t in kept if len(t) > 2 or any(c.isdigit() for c in t))


def plan_question(question: str) -> QuestionPlan:
    """The retrieval plan for a question."""
    question = question.strip()
    intent = classify(question)
    topic = topic_words(question)
    codes = _codes(question)
    exact = codes or components(question)
    queries = [question] + codes
    if intent == "request":
        queries += [f"{p} {topic}".strip() for p in REQUEST_PHRASES]
    elif intent == "recommendation":
        queries += [f"{p} {topic}".strip() for p in RECOMMEND_PHRASES]
    elif intent == "component" and topic:
        queries.append(topic)
    return QuestionPlan(question, intent, queries, topic, exact)


# ------------------------------------------------------------------ retrieval


def _cue(intent: str) -> re.Pattern[str] | None:
    return REQUEST_CUE if intent == "request" else RECOMMEND_CUE if intent == "recommendation" else None


def _has_exact(row: dict[str, Any], exact: list[str]) -> bool:
    """Does a catalog row contain one of the exact tokens (a code, a part number or a component word)?"""
    if not exact:
        return False
    ids = {x for x in (row.get("codes", "") + "," + row.get("parts", "")).split(",") if x}
    if ids & set(exact):
        return True
    tokens = set(tokenize(row["text"]))
    return any(tok in tokens for e in exact for tok in tokenize(e)[:1])


def _allowed(catalog: Catalog, filters: Filters) -> np.ndarray:
    mask = catalog.mask(filters)
    return np.arange(len(catalog)) if mask is None else np.flatnonzero(mask)


def latest_rows(catalog: Catalog, filters: Filters, k: int, topic: str = "", exact: Sequence[str] = ()) -> list[int]:
    """The newest records' chunks (record by record, in text order) within the filters; when the question names a
    code or part, only chunks containing it, else only chunks matching its topic words (when some do)."""
    rows = [int(r) for r in _allowed(catalog, filters)]
    if exact:
        named = [r for r in rows if _has_exact(catalog.rows[r], list(exact))]
    elif topic:
        scores = catalog.keyword.scores(topic)
        named = [r for r in rows if scores[r] > 0]
    else:
        named = rows
    rows = named or rows
    rows.sort(key=lambda r: (-int(catalog.dates[r]), catalog.rows[r]["source_id"], catalog.rows[r]["start"]))
    return rows[:k]


def answer_hits(searcher: SearcherLike, plan: QuestionPlan, filters: Filters | None, k: int) -> list[Hit]:
    """Best k chunks to answer the planned question, best first (scores fall with rank)."""
    filters = filters or Filters()
    catalog = searcher.catalog()
    if plan.intent == "last_visit":
        rows = latest_rows(catalog, filters, k, plan.topic, plan.exact)
        return [row_hit(catalog, r, round(1.0 / (i + 1), 6), "date", [plan.topic] if plan.topic else [])
                for i, r in enumerate(rows)]
    hits = searcher.search(plan.queries, filters, max(POOL_MIN, 4 * k))
    if plan.intent == "general":
        return hits[:k]
    found = {catalog.row_of[h.chunk_id]: (i, h) for i, h in enumerate(hits) if h.chunk_id in catalog.row_of}
    cue = _cue(plan.intent)
    candidates = set(found)
    allowed = _allowed(catalog, filters)
    if len(allowed) <= SCAN_MAX:
        for r in allowed:
            row = catalog.rows[int(r)]
            if (cue is not None and cue.search(row["text"])) or (cue is None and _has_exact(row, plan.exact)):
                candidates.add(int(r))
    topic = catalog.keyword.scores(plan.topic) if plan.topic else None

    def key(r: int) -> tuple[Any, ...]:
        row = catalog.rows[r]
        answers = bool(cue.search(row["text"])) if cue is not None else _has_exact(row, plan.exact)
        named = _has_exact(row, plan.exact)
        on_topic = float(topic[r]) if topic is not None else 0.0
        return (not answers, not named, -on_topic, -int(catalog.dates[r]) if cue is not None else 0,
                found.get(r, (10**9,))[0], catalog.ids[r])

    order = sorted(candidates, key=key)[:k]
    out = []
    for i, r in enumerate(order):
        hit = found[r][1] if r in found else row_hit(catalog, r, 0.0, plan.intent, plan.queries)
        hit.score = round(1.0 / (i + 1), 6)
        out.append(hit)
    return out
