"""DraftService: the Python calls the CLI and API use for why / ask / brief / talking points."""

from __future__ import annotations

import time
from datetime import date
from typing import Any, Callable, Iterator

from sdi.audit import AuditLog
from sdi.config import Settings
from sdi.drafting import history
from sdi.drafting.compose import Composer
from sdi.drafting.pii import Redactor
from sdi.drafting.prompts import PromptTemplate, line_grammar, load_prompt
from sdi.drafting.record import load_turns, record_draft, save_turn
from sdi.drafting.signup import sign_up_sheet
from sdi.drafting.sources import SourceBook, machine_fact, opportunity_fact, trigger_fact
from sdi.drafting.templates import (check_sentence_for, offer_sentence, recommendation_sentence, talking_point_for,
                                    trigger_sentence)
from sdi.drafting.types import Check, Draft, Sentence
from sdi.errors import SdiError
from sdi.llm.base import ChatBackend, GenerationParams
from sdi.llm.registry import load_backend
from sdi.machine_file import MachineFile
from sdi.triggers.opportunities import get_opportunity, opportunities_for_machine
from sdi.triggers.rules import load_rules

MAX_TRIGGERS = 4
SEED = 42


class NotFound(SdiError):
    """The opportunity, machine or conversation does not exist (the API answers 404)."""


class _Run:
    """One draft being composed: sources, templates, sentences so far; streams, then finishes into a Draft."""

    def __init__(self, svc: "DraftService", kind: str, subject: dict[str, Any], book: SourceBook,
                 prompt: PromptTemplate, values: dict[str, Any], section: str) -> None:
        self.svc, self.kind, self.subject, self.book = svc, kind, subject, book
        self.prompt, self.values, self.section = prompt, values, section
        self.sentences: list[Sentence] = []
        self.check = Check()
        self.fallbacks: dict[str, str] = {}  # source id -> template sentence for repairs and coverage
        self.used: set[str] = set()
        self.raw = ""
        self.messages: list[dict[str, str]] = []
        self.params = GenerationParams()
        self.sent = False
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}
        self.start = time.perf_counter()

    def add(self, text: str, refs: list[str], section: str, origin: str = "template") -> Sentence:
        """A deterministic sentence."""
        sentence = Sentence(text, refs, origin, section)  # type: ignore[arg-type]
        self.sentences.append(sentence)
        self.used.update(refs)
        return sentence

    def _repair(self, cites: list[str]) -> Sentence | None:
        for ref in cites:
            if ref in self.fallbacks and ref not in self.used:
                self.used.add(ref)
                return Sentence(self.fallbacks[ref], [ref], "template", self.section)
        return None

    def render(self, only: list[str] | None = None) -> list[str]:
        """Render the prompt over the shown sources (recorded even when nothing is sent); returns their ids."""
        lines = self.prompt.sentences
        shown = [s.id for s in self.book.items if only is None or s.id in only]
        self.values = {**self.values, "sources": self.book.block(shown), "sentences": lines}
        self.messages = self.prompt.render(**self.values)
        self.params = GenerationParams(max_tokens=self.prompt.max_tokens, temperature=0.0, seed=SEED,
                                       grammar=line_grammar(shown, lines))
        return shown

    def generate(self, only: list[str] | None = None) -> Iterator[Sentence]:
        """Model sentences that pass the check (repairs in between); nothing for the template backend."""
        backend = self.svc.backend
        shown = self.render(only)
        if backend.info.backend == "template":
            self.notes.append("template backend: no language model; every sentence is built from the evidence")
            return
        self.sent = True
        texts = {k: v for k, v in self.book.texts().items() if k in shown}
        composer = Composer(backend, texts, self.check, self._repair, self.section)
        t0 = time.perf_counter()
        for sentence in composer.run(self.messages, self.params):
            if not self.timings.get("first_sentence_s"):
                self.timings["first_sentence_s"] = round(time.perf_counter() - self.start, 3)
            self.sentences.append(sentence)
            self.used.update(sentence.citations)
            yield sentence
        self.raw = composer.raw
        self.timings["llm_s"] = round(time.perf_counter() - t0, 3)

    def finish(self, sign_up: list[dict[str, Any]] | None = None) -> Draft:
        """Assemble, record for audit, and restore personal data only where allowed."""
        c = self.check
        if self.svc.history.problem:
            self.notes.append(self.svc.history.problem)
        if c.repaired or c.dropped:
            self.notes.append(f"{c.repaired} model sentence(s) replaced by template text and {c.dropped} dropped "
                              f"after failing the citation check")
        self.timings["total_s"] = round(time.perf_counter() - self.start, 3)
        draft = Draft(self.kind, self.subject, self.sentences, self.book.items, self.svc.backend.info.to_dict(),  # type: ignore[arg-type]
                      self.prompt.meta(), c, sign_up or [], None, self.notes, self.timings)
        usage = self.svc.backend.last_usage
        self.timings.update(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)
        draft.audit_id = record_draft(self.svc.audit, draft, self.prompt, self.messages, self.params, self.raw,
                                      usage, self.svc.user, self.sent, {k: str(v) for k, v in self.values.items()})
        return draft


class DraftService:
    """One per process: holds the LLM backend (one model in memory), the machine file and the audit log."""

    def __init__(self, settings: Settings, db: MachineFile, backend: ChatBackend | None = None,
                 audit: AuditLog | None = None, retriever: Any | None = None) -> None:
        self.settings = settings
        self.db = db
        self.backend = backend or load_backend(settings.llm)
        self.audit = audit or AuditLog(settings.home)
        self.rules = load_rules(settings.home)
        self.history = history.History(settings, retriever)
        self.user: str | None = None
        self._current: SourceBook | None = None  # the draft being written (one at a time per service)

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
        return _drain(self._why(opportunity_id, user, reveal_contacts))

    def ask(self, opportunity_id: str, question: str, conversation_id: str | None = None, user: str | None = None,
            reveal_contacts: bool = True) -> Draft:
        """A grounded answer to a follow-up; the draft's subject carries the conversation_id to continue with."""
        return _drain(self._ask(opportunity_id, question, conversation_id, user, reveal_contacts))

    def brief(self, serial: str, user: str | None = None, reveal_contacts: bool = True) -> Draft:
        """A technician's pre-visit briefing with talking points and a sign-up sheet."""
        return _drain(self._brief(serial, user, reveal_contacts))

    def talking_points(self, opportunity_id: str, channel: str = "email", user: str | None = None,
                       reveal_contacts: bool = True) -> Draft:
        """Customer-facing talking points for an e-mail or a call."""
        return _drain(self._talking_points(opportunity_id, channel, user, reveal_contacts))

    def stream(self, kind: str, **kwargs: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yields ("sentence", sentence_dict) as each sentence passes the check, then ("draft", draft_dict)."""
        makers: dict[str, Callable[..., Iterator[Sentence | Draft]]] = {
            "why": self._why, "ask": self._ask, "brief": self._brief, "talking_points": self._talking_points}
        if kind not in makers:
            raise SdiError(f"unknown draft kind {kind!r}", f"use one of {', '.join(makers)}")
        reveal = kwargs.get("reveal_contacts", True)
        for item in makers[kind](**kwargs):
            if isinstance(item, Draft):
                yield "draft", item.to_dict()
            else:  # a streamed sentence is what the user reads: contacts restored exactly as in the final draft
                text = self._current.redactor.restore(item.text) if reveal and self._current else item.text
                yield "sentence", {"text": text, "citations": item.citations, "origin": item.origin, "section": item.section}

    # -- the four drafts ----------------------------------------------------------------------------------------
    def _opportunity(self, opportunity_id: str) -> dict[str, Any]:
        opp = get_opportunity(self.db.child(), opportunity_id)
        if opp is None:
            raise NotFound(f"no opportunity {opportunity_id}", "list them with: sdi opportunities")
        return opp

    def _book(self, customer_id: str | None) -> SourceBook:
        self._current = SourceBook(Redactor(history.contact_names(self.db.child(), customer_id)))
        return self._current

    def _facts(self, book: SourceBook, opp: dict[str, Any]) -> tuple[str, dict[str, tuple[str, dict[str, Any]]]]:
        t_opp = book.add_fact(opportunity_fact(opp), [f"opportunity:{opp['id']}"], f"opportunity:{opp['id']}").id
        refs = {}
        for trig in opp["triggers"][:MAX_TRIGGERS]:
            src = book.add_fact(trigger_fact(trig), trig["evidence"]["source_ids"], f"trigger:{trig['trigger_id']}")
            refs[trig["trigger_id"]] = (src.id, trig)
        return t_opp, refs

    def _why(self, opportunity_id: str, user: str | None = None, reveal_contacts: bool = True) -> Iterator[Sentence | Draft]:
        self.user = user
        opp = self._opportunity(opportunity_id)
        book = self._book(opp.get("customer_id"))
        t_opp, refs = self._facts(book, opp)
        self.history.add_for_opportunity(book, opp, k_own=2, k_similar=1)
        run = _Run(self, "why", {"opportunity_id": opp["id"], "serial": opp["serial"]}, book, load_prompt("why"),
                   {"serial": opp["serial"], "campaign": opp["campaign"]}, "reasons")
        run.fallbacks = {ref: trigger_sentence(t, ref) for ref, t in refs.values()}
        yield run.add(recommendation_sentence(opp, t_opp), [t_opp], "recommendation")
        yield from run.generate()
        for ref, trig in refs.values():
            if ref not in run.used:
                yield run.add(trigger_sentence(trig, ref), [ref], "reasons")
        offer = offer_sentence(opp, t_opp)
        if offer:
            yield run.add(offer, [t_opp], "offer")
        yield _reveal(run.finish(), book, reveal_contacts)

    def _talking_points(self, opportunity_id: str, channel: str = "email", user: str | None = None,
                        reveal_contacts: bool = True) -> Iterator[Sentence | Draft]:
        self.user = user
        if channel not in ("email", "call"):
            raise SdiError(f"unknown channel {channel!r}", "use email or call")
        opp = self._opportunity(opportunity_id)
        book = self._book(opp.get("customer_id"))
        _, refs = self._facts(book, opp)
        self.history.add_for_opportunity(book, opp, k_own=2, k_similar=0)
        run = _Run(self, "talking_points", {"opportunity_id": opp["id"], "serial": opp["serial"], "channel": channel},
                   book, load_prompt("talking_points"),
                   {"serial": opp["serial"], "campaign": opp["campaign"], "channel": "an e-mail" if channel == "email" else "a call"},
                   "talking_points")
        run.fallbacks = {ref: talking_point_for(t, ref) for ref, t in refs.values()}
        yield from run.generate()
        yield from _fill_points(run, refs)
        yield _reveal(run.finish(), book, reveal_contacts)

    def _brief(self, serial: str, user: str | None = None, reveal_contacts: bool = True) -> Iterator[Sentence | Draft]:
        self.user = user
        db = self.db.child()
        as_of = db.data_as_of()
        fact = machine_fact(db, serial, as_of)
        if fact is None:
            raise NotFound(f"no machine {serial}", "check the serial (sdi status shows what is loaded)")
        customer_id = db.scalar("SELECT customer_id FROM machines WHERE serial = ?", [serial])
        book = self._book(customer_id)
        t_machine = book.add_fact(fact[0], fact[1], f"machine:{serial}").id
        refs: dict[str, tuple[str, dict[str, Any]]] = {}
        for opp in opportunities_for_machine(db, serial):
            for trig in opp["triggers"]:
                if len(refs) < MAX_TRIGGERS and trig["trigger_id"] not in refs:
                    refs[trig["trigger_id"]] = (book.add_fact(trigger_fact(trig), trig["evidence"]["source_ids"],
                                                              f"trigger:{trig['trigger_id']}").id, trig)
        recent = history.recent_records(db, book, serial, as_of, limit=3)
        run = _Run(self, "brief", {"serial": serial}, book, load_prompt("brief"), {"serial": serial}, "talking_points")
        yield run.add(f"{book.items[0].text.rstrip('.')} [{t_machine}].", [t_machine], "summary")
        for ref, trig in refs.values():
            yield run.add(trigger_sentence(trig, ref), [ref], "triggers")
        for src, line in recent:
            yield run.add(f"{line} [{src.id}].", [src.id], "history")
        for ref, trig in refs.values():
            yield run.add(check_sentence_for(trig, ref), [ref], "checks")
        run.fallbacks = {ref: talking_point_for(t, ref) for ref, t in refs.values()}
        run.used -= set(run.fallbacks)  # the sections above cite them; talking points may still use them
        yield from run.generate(only=[r for r, _ in refs.values()] + [src.id for src, _ in recent[:2]])
        yield from _fill_points(run, refs)
        if recent and sum(1 for s in run.sentences if s.section == "talking_points") < 2:
            src = recent[0][0]
            day, kind = src.text.split(" ", 2)[:2]
            yield run.add(f"Your last service visit was a {kind} on {day}; we can go through what was found then [{src.id}].",
                          [src.id], "talking_points")
        limit = self.rules.routing.technician_price_limit
        sheet = sign_up_sheet(db, serial, [t for _, t in refs.values()], recent, limit, {t["trigger_id"]: r for r, t in refs.values()})
        yield _reveal(run.finish(sheet), book, reveal_contacts)

    def _ask(self, opportunity_id: str, question: str, conversation_id: str | None = None, user: str | None = None,
             reveal_contacts: bool = True) -> Iterator[Sentence | Draft]:
        self.user = user
        question = (question or "").strip()
        if not question:
            raise SdiError("the question is empty", "ask something about the opportunity, e.g. 'what was repaired last?'")
        if len(question) > 500:
            raise SdiError("the question is longer than 500 characters", "ask a shorter question")
        opp = self._opportunity(opportunity_id)
        turns: list[dict[str, Any]] = []
        if conversation_id:
            owner, turns = load_turns(self.db.child(), conversation_id)
            if owner is None:
                raise NotFound(f"no conversation {conversation_id}", "start a new one by leaving conversation_id out")
            if turns and turns[0].get("user") != user:  # another person's questions stay theirs
                raise NotFound(f"no conversation {conversation_id}", "start a new one by leaving conversation_id out")
            if owner != opp["id"]:
                raise SdiError(f"conversation {conversation_id} belongs to another opportunity", "start a new conversation")
        book = self._book(opp.get("customer_id"))
        t_opp, refs = self._facts(book, opp)
        self.history.add_for_question(book, opp, question, k=3)
        earlier = "".join(f"\nEarlier question: {t['question']}\nEarlier answer: {t['answer']}" for t in turns[-2:])
        run = _Run(self, "ask", {"opportunity_id": opp["id"], "serial": opp["serial"], "question": question,
                                 "conversation_id": conversation_id}, book, load_prompt("ask"),
                   {"question": book.redactor.redact(question.replace("[", "(").replace("]", ")")), "history": earlier},
                   "answer")
        answerable = history.answerable(question, book)
        if answerable:
            yield from run.generate()
        else:
            run.render()
        if not any(s.origin == "llm" for s in run.sentences):
            run.notes.append("the records do not answer this question" if not answerable else
                             "no model sentence passed the citation check")
            yield run.add(f"The records for machine {opp['serial']} do not answer this question [{t_opp}].", [t_opp], "answer")
            closest = next((s for s in book.items if s.id.startswith("H")), None)
            if closest:
                yield run.add(f"Closest record: {closest.text} [{closest.id}].", [closest.id], "answer")
        draft = run.finish()
        answer = " ".join(s.text for s in draft.sentences)
        cid = save_turn(self.db.child(), conversation_id, opp["id"],
                        {"question": question, "answer": answer, "audit_id": draft.audit_id, "at": date.today().isoformat(),
                         "user": user})
        draft.subject["conversation_id"] = cid
        yield _reveal(draft, book, reveal_contacts)


def _fill_points(run: _Run, refs: dict[str, tuple[str, dict[str, Any]]], minimum: int = 2) -> Iterator[Sentence]:
    """Template talking points for uncovered triggers until there are at least `minimum` (at most 4)."""
    for ref, trig in refs.values():
        points = [s for s in run.sentences if s.section == "talking_points"]
        if len(points) >= 4 or (len(points) >= minimum and ref in run.used):
            continue
        if ref not in {c for s in points for c in s.citations}:
            yield run.add(talking_point_for(trig, ref), [ref], "talking_points")


def _reveal(draft: Draft, book: SourceBook, reveal: bool) -> Draft:
    if reveal and book.redactor.found:
        for sentence in draft.sentences:
            sentence.text = book.redactor.restore(sentence.text)
    return draft


def _drain(events: Iterator[Sentence | Draft]) -> Draft:
    draft = None
    for item in events:
        if isinstance(item, Draft):
            draft = item
    assert draft is not None
    return draft
