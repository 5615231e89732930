"""Run the model, split its output into sentences, check each, repair or drop the failures — streaming."""

from __future__ import annotations

from typing import Callable, Iterator

from sdi.drafting.checker import Verdict, check_sentence, split_sentences
from sdi.drafting.inert import MARKERS
from sdi.drafting.types import Check, Sentence
from sdi.llm.base import ChatBackend, GenerationParams, Message

Repair = Callable[[list[str]], Sentence | None]


def judge(text: str, sources: dict[str, str]) -> Verdict:
    """The claim check, plus: a sentence quoting a marker of withheld text is refused."""
    verdict = check_sentence(text, sources)
    if verdict.ok and any(m in text for m in MARKERS):
        return Verdict(False, verdict.citations, "quotes a marker of text withheld from the sources")
    return verdict


class Composer:
    """Turns a model's stream into checked sentences; keeps the raw output for the audit log."""

    def __init__(self, backend: ChatBackend, sources: dict[str, str], check: Check, repair: Repair, section: str) -> None:
        self.backend = backend
        self.sources = sources
        self.check = check
        self.repair = repair
        self.section = section
        self.raw = ""
        self.seen: set[str] = set()

    def run(self, messages: list[Message], params: GenerationParams) -> Iterator[Sentence]:
        """Yield each sentence as soon as it passed the check (or was repaired)."""
        buffer = ""
        for piece in self.backend.stream(messages, params):
            self.raw += piece
            buffer += piece
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                yield from self._judge(line)
        if buffer.strip():
            yield from self._judge(buffer)

    def _judge(self, line: str) -> Iterator[Sentence]:
        for text in split_sentences(line):
            self.check.checked += 1
            key = text.lower()
            if key in self.seen:
                self.check.dropped += 1
                self.check.failures.append({"text": text, "reason": "repeats an earlier sentence"})
                continue
            self.seen.add(key)
            verdict = judge(text, self.sources)
            if verdict.ok:
                self.check.passed += 1
                yield Sentence(text, verdict.citations, "llm", self.section)
                continue
            self.check.failures.append({"text": text, "reason": verdict.reason})
            fixed = self.repair(verdict.citations)
            if fixed is None:
                self.check.dropped += 1
            else:
                self.check.repaired += 1
                yield fixed
