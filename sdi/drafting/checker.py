"""The citation check: every sentence cites known sources, and its numbers, dates and codes appear in them."""

from __future__ import annotations

import re
from dataclasses import dataclass

CITATION = re.compile(r"\[([TH]\d{1,2})\]")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CODE = re.compile(r"\b[A-Z]{1,4}-\d{2,5}\b")
PART = re.compile(r"\b\d{3,5}-\d{2,5}\b")
NUMBER = re.compile(r"(?<![\w.,-])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)(?![\w-])")
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{4,}")

# Words an advisor may use without a source saying them: advice, connectives, generic service vocabulary.
GENERIC = set("""
about above after again also because before being below between both could customer customers days does doing
during each from further have here into just more most other over same should since some such than that their them
then there these they this those through under until very were what when where which while will with would your
recommend recommended recommendation suggest suggests propose proposal offer offers offering quote discuss discussion
review check checks checking inspect inspection schedule scheduled visit call email contact reach plan planning
help helps avoid prevent reduce keep keeps ensure renew renewal extend extension consider option options opportunity
service services maintenance machine machines contract contracts package packages parts spare wear replace replacement
repair repairs support team technician sales soon time timely early ahead next today week weeks month months year years
current currently recent recently record records history shows show showed found noted note notes based given data
trigger triggers triggered fired rule value threshold above below level levels rate rates high higher rising increase
model models age aged older running hours operating interval since last days days' upcoming ends ending expires
expiring expired available successor campaign modernization modernisation retrofit preventive upgrade safety
""".split())


@dataclass(frozen=True)
class Verdict:
    """Check result for one sentence."""

    ok: bool
    citations: list[str]
    reason: str = ""


def normalise_number(token: str) -> str:
    """'1,681.30' -> '1681.3'; '58.0' -> '58'."""
    text = token.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", token) else token.replace(",", ".")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _numbers(text: str) -> set[str]:
    return {normalise_number(n) for n in NUMBER.findall(text)}


def strip_citations(sentence: str) -> str:
    """The sentence without its [T1]/[H2] markers."""
    return re.sub(r"\s*\[[TH]\d{1,2}\]", "", sentence).strip()


def check_sentence(sentence: str, sources: dict[str, str], min_support: float = 0.5) -> Verdict:
    """Cited ids known, at least one citation, every date/code/part/number present in the cited text."""
    cites = list(dict.fromkeys(CITATION.findall(sentence)))
    if not cites:
        return Verdict(False, [], "cites no source")
    unknown = [c for c in cites if c not in sources]
    if unknown:
        return Verdict(False, cites, f"cites unknown source(s) {', '.join(unknown)}")
    body = strip_citations(sentence)
    if len(WORD.findall(body)) < 2:
        return Verdict(False, cites, "too short to say anything")
    cited = " ".join(sources[c] for c in cites)
    for pattern, label in ((DATE, "date"), (CODE, "code"), (PART, "part number")):
        for token in pattern.findall(body):
            if token not in cited:
                return Verdict(False, cites, f"{label} {token} is not in {', '.join(cites)}")
    scrubbed = PART.sub(" ", CODE.sub(" ", DATE.sub(" ", body)))
    known = _numbers(PART.sub(" ", CODE.sub(" ", DATE.sub(" ", cited)))) | _numbers(cited)
    for number in _numbers(scrubbed):
        if number not in known:
            return Verdict(False, cites, f"number {number} is not in {', '.join(cites)}")
    words = [w.lower() for w in WORD.findall(body)]
    specific = [w for w in words if w not in GENERIC]
    if specific:
        cited_lower = cited.lower()
        supported = sum(1 for w in specific if w[:5] in cited_lower)
        if supported / len(specific) < min_support:
            missing = [w for w in specific if w[:5] not in cited_lower][:4]
            return Verdict(False, cites, f"words not supported by the sources: {', '.join(missing)}")
    return Verdict(True, cites)


def split_sentences(text: str) -> list[str]:
    """Split model output into cited units: one per line, and after a citation that another sentence follows."""
    out: list[str] = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip()
        if not line:
            continue
        parts = re.split(r"(?<=\])\.?\s+(?=[A-Z])", line)
        out.extend(p.strip() for p in parts if p.strip())
    return out
