"""DraftRun: one request's draft — user, source book, redactor, prompt, sentences so far; streams, then finishes."""

from __future__ import annotations

import time
from typing import Any, Iterator

from sdi.audit.log import AuditLog
from sdi.drafting.compose import judge
from sdi.drafting.history import History
from sdi.drafting.pii import Redactor
from sdi.drafting.prompts import PromptTemplate
from sdi.drafting.record import record_draft
from sdi.drafting.sources import SourceBook
from sdi.drafting.tasks import cite, clean_reply, head_clause, sentence_done
from sdi.drafting.types import Check, Draft, Sentence
from sdi.llm.base import ChatBackend, GenerationParams, Usage, complete

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
        self.sentences: list[Sentence] = []
        self.check = Check()
        self.fallbacks: dict[str, str] = {}  # source id -> template sentence for repairs and coverage
        self.used: set[str] = set()
        self.calls: list[dict[str, Any]] = []  # every model task: prompt, values, messages, reply, verdict
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}
        self.start = time.perf_counter()

    def open_book(self, contacts: list[str]) -> SourceBook:
        """A fresh source book whose redactor withholds the customer's contact details."""
        self.book = SourceBook(Redactor(contacts))
        return self.book

    def begin(self, subject: dict[str, Any], prompt: PromptTemplate) -> None:
        """The sources are gathered: set what the draft is about and its main prompt; the clock starts here."""
        self.subject, self.prompt = subject, prompt
        self.start = time.perf_counter()

    def add(self, text: str, refs: list[str], section: str, origin: str = "template") -> Sentence:
        """A deterministic sentence."""
        sentence = Sentence(text, refs, origin, section)  # type: ignore[arg-type]
        self.sentences.append(sentence)
        self.used.update(refs)
        return sentence

    def _prompt(self) -> PromptTemplate:
        assert self.prompt is not None, "begin() sets the prompt"
        return self.prompt

    def task(self, prompt: PromptTemplate, values: dict[str, str], ref: str, section: str,
             send: bool = True) -> Sentence | None:
        """One small model task over one source: its reply, cleaned and cited, if it passes the check.

        Every task is recorded for the audit; the template backend (or send=False) records the rendered prompt
        without sending it, and a declined task ("not in the record") yields nothing."""
        messages = prompt.render(**values)
        # One task, one sentence: generation stops at the end of the first line.
        params = GenerationParams(max_tokens=prompt.max_tokens, temperature=0.0, seed=SEED, stop=("\n",))
        call: dict[str, Any] = {"prompt": prompt.meta(), "values": values, "messages": messages,
                                "params": params.to_dict(), "ref": ref, "sent": False, "raw": ""}
        self.calls.append(call)
        if not send or self.backend.info.backend == "template":
            return None
        call["sent"] = True
        t0 = time.perf_counter()
        # Only the reply's first sentence is used: the model stops once it has started a second one.
        call["raw"] = complete(self.backend, messages, params, until=sentence_done)
        usage = self.backend.last_usage
        call["usage"] = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
        self.timings["llm_s"] = round(self.timings.get("llm_s", 0.0) + time.perf_counter() - t0, 3)
        reply = clean_reply(call["raw"])
        if reply is None:
            call["verdict"] = {"ok": False, "reason": "declined or empty"}
            return None
        text = cite(reply, ref)
        self.check.checked += 1
        sources = {ref: self.book.get(ref).text}
        verdict = judge(text, sources)
        call["verdict"] = {"ok": verdict.ok, "reason": verdict.reason, "text": text}
        head = None if verdict.ok else head_clause(reply)
        shorter = cite(head, ref) if head is not None else None
        if shorter is not None and (cut := judge(shorter, sources)).ok:
            # A first clause the source supports is kept; what failed after it is recorded for the audit.
            call["verdict"] = {"ok": True, "reason": "", "text": shorter, "cut_from": text, "cut_reason": verdict.reason}
            self.check.cut += 1
            text, verdict = shorter, cut
        if not verdict.ok:  # the template sentence for the same source replaces it, once; else it is dropped
            self.check.failures.append({"text": text, "reason": verdict.reason})
            fallback = self.fallbacks.get(ref) if ref not in self.used else None
            self.check.repaired += fallback is not None
            self.check.dropped += fallback is None
            return self.add(fallback, [ref], section) if fallback is not None else None
        self.check.passed += 1
        if not self.timings.get("first_model_sentence_s"):
            self.timings["first_model_sentence_s"] = round(time.perf_counter() - self.start, 3)
        return self.add(text, [ref], section, origin="llm")

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
        usage = Usage(sum(c.get("usage", {}).get("prompt_tokens", 0) for c in self.calls),
                      sum(c.get("usage", {}).get("completion_tokens", 0) for c in self.calls))
        self.timings.update(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)
        draft.audit_id = record_draft(self.audit, draft, prompt, self.calls, usage, self.user)
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
