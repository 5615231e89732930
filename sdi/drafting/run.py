"""DraftRun: one request's draft — user, source book, redactor, prompt, sentences so far; streams, then finishes."""

from __future__ import annotations

import time
from typing import Any, Iterator

from sdi.audit.log import AuditLog
from sdi.drafting.compose import Composer
from sdi.drafting.history import History
from sdi.drafting.pii import Redactor
from sdi.drafting.prompts import PromptTemplate, line_grammar
from sdi.drafting.record import record_draft
from sdi.drafting.sources import SourceBook
from sdi.drafting.types import Check, Draft, Sentence
from sdi.llm.base import ChatBackend, GenerationParams

SEED = 42


class DraftRun:
    """Everything of one request; the long-lived backend, audit log and history are passed in, never looked up."""

    def __init__(self, kind: str, user: str | None, reveal_contacts: bool, backend: ChatBackend, audit: AuditLog,
                 history: History) -> None:
        self.kind, self.user, self.reveal_contacts = kind, user, reveal_contacts
        self.backend, self.audit, self.history = backend, audit, history
        self.book = SourceBook(Redactor())
        self.subject: dict[str, Any] = {}
        self.prompt: PromptTemplate | None = None
        self.values: dict[str, Any] = {}
        self.section = "body"
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

    def open_book(self, contacts: list[str]) -> SourceBook:
        """A fresh source book whose redactor withholds the customer's contact details."""
        self.book = SourceBook(Redactor(contacts))
        return self.book

    def begin(self, subject: dict[str, Any], prompt: PromptTemplate, values: dict[str, Any], section: str) -> None:
        """The sources are gathered: set what the draft is about and its prompt; the clock starts here."""
        self.subject, self.prompt, self.values, self.section = subject, prompt, values, section
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

    def _prompt(self) -> PromptTemplate:
        assert self.prompt is not None, "begin() sets the prompt"
        return self.prompt

    def render(self, only: list[str] | None = None) -> list[str]:
        """Render the prompt over the shown sources (recorded even when nothing is sent); returns their ids."""
        prompt = self._prompt()
        lines = prompt.sentences
        shown = [s.id for s in self.book.items if only is None or s.id in only]
        self.values = {**self.values, "sources": self.book.block(shown), "sentences": lines}
        self.messages = prompt.render(**self.values)
        self.params = GenerationParams(max_tokens=prompt.max_tokens, temperature=0.0, seed=SEED,
                                       grammar=line_grammar(shown, lines))
        return shown

    def generate(self, only: list[str] | None = None) -> Iterator[Sentence]:
        """Model sentences that pass the check (repairs in between); nothing for the template backend."""
        shown = self.render(only)
        if self.backend.info.backend == "template":
            self.notes.append("template backend: no language model; every sentence is built from the evidence")
            return
        self.sent = True
        texts = {k: v for k, v in self.book.texts().items() if k in shown}
        composer = Composer(self.backend, texts, self.check, self._repair, self.section)
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
        """Assemble and record for audit (personal data still withheld; `reveal` restores it)."""
        c, prompt = self.check, self._prompt()
        if self.history.problem:
            self.notes.append(self.history.problem)
        if c.repaired or c.dropped:
            self.notes.append(f"{c.repaired} model sentence(s) replaced by template text and {c.dropped} dropped "
                              f"after failing the citation check")
        self.timings["total_s"] = round(time.perf_counter() - self.start, 3)
        draft = Draft(self.kind, self.subject, self.sentences, self.book.items, self.backend.info.to_dict(),  # type: ignore[arg-type]
                      prompt.meta(), c, sign_up or [], None, self.notes, self.timings)
        usage = self.backend.last_usage
        self.timings.update(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)
        draft.audit_id = record_draft(self.audit, draft, prompt, self.messages, self.params, self.raw, usage, self.user,
                                      self.sent, {k: str(v) for k, v in self.values.items()})
        return draft

    def reveal(self, draft: Draft) -> Draft:
        """The draft with personal data restored, where this user's role may see it."""
        if self.reveal_contacts and self.book.redactor.found:
            for sentence in draft.sentences:
                sentence.text = self.book.redactor.restore(sentence.text)
        return draft

    def streamed(self, sentence: Sentence) -> dict[str, Any]:
        """A sentence as the user reads it while streaming: contacts restored exactly as in the final draft."""
        text = self.book.redactor.restore(sentence.text) if self.reveal_contacts else sentence.text
        return {"text": text, "citations": sentence.citations, "origin": sentence.origin, "section": sentence.section}
