"""What the model is asked for one record of an `ask`: the question restated in plain English for its intent, and
the part of the record that can answer it."""

from __future__ import annotations

import re

from retrieval.keyword import tokenize
from retrieval.questions import COMPONENTS, RECOMMEND_CUE, RECOMMENDED, REQUEST_CUE, QuestionPlan
from sdi.drafting.claims import action_class

# A record splits into the clauses technicians separate with full stops, semicolons, dashes or commas.
_CLAUSE = re.compile(r"(?<=[.;!?])\s+|\s+-\s+|;\s*|,\s+(?=[A-Za-zÄÖÜäöü])")
_NAME = {word: row[0] for row in COMPONENTS for word in row}
# Topic words a "last visit" question may carry and still ask only what was done when ("the last repair").
_VISIT = frozenset("service repair repairs maintenance inspection replacement work job einsatz wartung reparatur "
                   "instandsetzung inspektion".split())
_VISIT_STEMS = frozenset(w[:5] for w in _VISIT)


def task_question(plan: QuestionPlan) -> str:
    """The question as the model gets it: a known intent in one plain English form (a German or shorthand question
    would otherwise come back as German or shorthand words), anything else as asked."""
    subject = _subject(plan)
    if plan.intent == "request":  # never presuppose that anybody asked: "quote to follow" is no customer's words
        return "What does the record say about a customer request, a quote or an offer?"
    if plan.intent == "recommendation":
        return "What does the record say was recommended?"
    if plan.intent == "last_visit" and (subject or set(plan.topic.split()) <= _VISIT):
        return f"When was this visit, and what was done{' to the ' + subject if subject else ''}?"
    if plan.intent in ("code", "component") and subject:
        return f"What does the record say about {'the ' if subject.isalpha() else ''}{subject}?"
    return plan.question


def _subject(plan: QuestionPlan) -> str:
    """The code, part number or component the question names, in English ('' when none)."""
    if not plan.exact:
        return ""
    first = plan.exact[0]
    return _NAME.get(first.lower(), first)


def focus(record: str, plan: QuestionPlan) -> str:
    """The clauses of a record that carry what a request or recommendation question asks for (the whole record
    when none does, or for other questions): a small model keeps one clause's roles apart, not five."""
    kept = _clauses(record, plan)
    return ". ".join(c.rstrip(".") for c in kept) + "." if kept else record


def _clauses(record: str, plan: QuestionPlan) -> list[str]:
    """The record's clauses that answer the planned question ([] when none says what it asks for)."""
    clauses = [c.strip() for c in _CLAUSE.split(record) if c and c.strip()]
    if plan.intent == "request":
        return [c for c in clauses if REQUEST_CUE.search(c)]
    if plan.intent == "recommendation":
        said = [c for c in clauses if RECOMMENDED.search(c)]
        return said or [c for c in clauses if RECOMMEND_CUE.search(c)]
    return []


def quote(record: str, when: str, plan: QuestionPlan) -> str | None:
    """The record's own words that answer the question, as a sentence without its tag; None when the question is
    of no known kind or the record has no clause that answers it. A record that names the code or part asked about
    answers with its whole note, and so does the latest record for a last-visit question."""
    whole = plan.intent in ("last_visit", "code", "component")
    kept = [record.strip()] if whole else _clauses(record, plan)
    if not kept:
        return None
    words = " … ".join(c.rstrip(". ") for c in kept)
    if len(words) > 240:
        words = words[:240].rsplit(" ", 1)[0] + " …"
    return f"The record of {when} says: “{words}”"


def covers(record: str, plan: QuestionPlan) -> bool:
    """Does the record name what the question is about? A named code or part must be in it (its qualifiers need
    not: "cutting gas valve" is answered by "changed out gas valve"); otherwise every subject word. Action words
    ("replaced") and visit words ("serviced") are the question's frame, not its subject."""
    have = {t[:5] for t in tokenize(record)}
    if plan.exact:
        return any(t[:5] in have for e in plan.exact for t in tokenize(e)[:1])
    for word in plan.topic.split():
        if word[:5] in _VISIT_STEMS or action_class(word) or word.isdigit():
            continue
        if word[:5] not in have:
            return False
    return True


def latest_only(plan: QuestionPlan) -> bool:
    """A last-visit question is answered by the newest record alone (an older one would answer it wrongly)."""
    return plan.intent == "last_visit"
