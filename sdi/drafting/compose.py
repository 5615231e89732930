"""Judge one model sentence: the claim check plus the rule for markers of text withheld from the sources."""

from __future__ import annotations

from sdi.drafting.checker import Verdict, check_sentence
from sdi.drafting.inert import MARKERS


def judge(text: str, sources: dict[str, str]) -> Verdict:
    """The claim check, plus: a sentence quoting a marker of withheld text is refused."""
    verdict = check_sentence(text, sources)
    if verdict.ok and any(m in text for m in MARKERS):
        return Verdict(False, verdict.citations, "quotes a marker of text withheld from the sources")
    return verdict
