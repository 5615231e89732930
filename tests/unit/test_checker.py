"""The citation check catches invented numbers, unknown ids, uncited and unsupported sentences."""

from __future__ import annotations

from sdi.drafting.checker import check_sentence, normalise_number
from sdi.drafting.pii import Redactor

SOURCES = {
    "T1": "Maintenance contract CT-1042 ends on 2026-12-29, 58 days after 2026-11-01, inside the 90-day renewal window.",
    "H1": "2026-09-12 repair on TL3030-004711: Replaced hyd hose on boom cyl, P/N 4471-220, E-417 cleared, cost 1,250.50 EUR.",
}


def test_supported_sentence_passes() -> None:
    verdict = check_sentence("The maintenance contract CT-1042 ends on 2026-12-29, in 58 days [T1].", SOURCES)
    assert verdict.ok and verdict.citations == ["T1"]
    assert check_sentence("The hose was replaced with P/N 4471-220 and E-417 cleared [H1].", SOURCES).ok
    assert check_sentence("The repair cost 1250.5 EUR [H1].", SOURCES).ok


def test_invented_number_is_caught() -> None:
    verdict = check_sentence("The contract ends in 45 days [T1].", SOURCES)
    assert not verdict.ok and "number 45" in verdict.reason


def test_date_code_and_part_must_be_in_the_cited_source() -> None:
    assert "date 2026-09-12" in check_sentence("The hose failed on 2026-09-12 [T1].", SOURCES).reason
    assert "code E-417" in check_sentence("Error E-417 ends the contract window [T1].", SOURCES).reason
    assert "part number 4471-221" in check_sentence("Replaced hose P/N 4471-221 [H1].", SOURCES).reason


def test_unknown_id_and_uncited_sentence_are_caught() -> None:
    assert "unknown source(s) T7" in check_sentence("The contract ends soon [T7].", SOURCES).reason
    assert check_sentence("The contract ends soon.", SOURCES).reason == "cites no source"


def test_unsupported_claims_are_caught() -> None:
    verdict = check_sentence("The customer complained about poor quality and wants a discount [T1].", SOURCES)
    assert not verdict.ok and "not supported" in verdict.reason


def test_a_sentence_left_open_is_not_a_claim() -> None:
    """Seen from Qwen 0.5B: 'Service visit found: [H1].' said nothing, yet every word was in the record."""
    for open_ended in ("Service visit found: [H1].", "- Replaced hyd hose on boom cyl - [H1].", "Replaced hyd hose; [H1]."):
        assert check_sentence(open_ended, SOURCES).reason.startswith("ends unfinished"), open_ended
    assert check_sentence("The technician replaced the hyd hose on the boom cyl [H1].", SOURCES).ok


def test_number_normalisation() -> None:
    assert normalise_number("1,250.50") == "1250.5" and normalise_number("58.0") == "58" and normalise_number("7,5") == "7.5"


def test_redactor_replaces_contacts_and_restores_them() -> None:
    red = Redactor(["Anna Keller"])
    text = red.redact("Call Anna Keller on +49 171 2345678 or anna.keller@example.com; part 4471-220 on 2026-11-01.")
    assert "Anna" not in text and "@" not in text and "2345678" not in text
    assert "4471-220" in text and "2026-11-01" in text
    assert red.restore(text) == "Call Anna Keller on +49 171 2345678 or anna.keller@example.com; part 4471-220 on 2026-11-01."
