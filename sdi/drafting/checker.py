"""The citation check: known sources cited, their numbers, dates and codes present, each claim said (claims/)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sdi.drafting.claims import date_mentions, dates_in, degenerate, scrub_dates, unsupported_claim, years_in

CITATION = re.compile(r"\[([TH]\d{1,2})\]")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CODE = re.compile(r"\b[A-Z]{1,4}-\d{2,5}\b")
PART = re.compile(r"\b\d{3,5}-\d{2,5}\b")
SERIAL = re.compile(r"\b[A-Z]{2,4}\d{2,5}-\d{3,6}\b")
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


def _unglue(text: str) -> str:
    """Numbers glued to units or letters split off ("2000h" -> "2000 h", "SHD24" -> "SHD 24")."""
    return re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z%])", " ", text)


def strip_citations(sentence: str) -> str:
    """The sentence without its [T1]/[H2] markers."""
    return re.sub(r"\s*\[[TH]\d{1,2}\]", "", sentence).strip()


def _codes(text: str) -> set[str]:
    """Codes, part numbers and serials with hyphens and case ignored ("E-417" = "e417")."""
    return {re.sub(r"[\s-]", "", t).upper() for p in (CODE, PART, SERIAL) for t in p.findall(text)}


def cited_text(sentence: str, sources: dict[str, str]) -> tuple[list[str], str, str] | Verdict:
    """(citations, body, cited text) of a sentence, or the failing Verdict when it cites nothing usable."""
    cites = list(dict.fromkeys(CITATION.findall(sentence)))
    if not cites:
        return Verdict(False, [], "cites no source")
    unknown = [c for c in cites if c not in sources]
    if unknown:
        return Verdict(False, cites, f"cites unknown source(s) {', '.join(unknown)}")
    body = strip_citations(sentence)
    if len(WORD.findall(body)) < 2:
        return Verdict(False, cites, "too short to say anything")
    return cites, body, " ".join(sources[c] for c in cites)


def check_sentence(sentence: str, sources: dict[str, str], min_support: float = 0.5) -> Verdict:
    """Cited ids known, every date/code/part/number in the cited text, and (min_support > 0) every claim supported."""
    parts = cited_text(sentence, sources)
    if isinstance(parts, Verdict):
        return parts
    cites, body, cited = parts
    where = ", ".join(cites)
    if min_support > 0 and (why := degenerate(body, cited)):  # before dates are blanked: a pasted "2005-03-20 repair on"
        return Verdict(False, cites, why)
    known_dates = dates_in(cited)
    for token, candidates in date_mentions(body):
        if not candidates & known_dates:
            return Verdict(False, cites, f"date {token} is not in {where}")
    body_scrubbed = scrub_dates(body)
    known_codes = _codes(cited)
    for pattern, label in ((CODE, "code"), (PART, "part number"), (SERIAL, "serial")):
        for token in pattern.findall(body_scrubbed):
            if re.sub(r"[\s-]", "", token).upper() not in known_codes:
                return Verdict(False, cites, f"{label} {token} is not in {where}")
    scrubbed = _unglue(SERIAL.sub(" ", PART.sub(" ", CODE.sub(" ", body_scrubbed))))
    cited_plain = _unglue(scrub_dates(cited))
    known = _numbers(SERIAL.sub(" ", PART.sub(" ", CODE.sub(" ", cited_plain)))) | _numbers(cited_plain)
    known |= _numbers(_unglue(cited)) | years_in(cited)
    for number in _numbers(scrubbed):
        if number not in known:
            return Verdict(False, cites, f"number {number} is not in {where}")
    if min_support > 0:
        why = unsupported_claim(scrub_dates(body), cited)
        if why:
            return Verdict(False, cites, why)
    return Verdict(True, cites)
