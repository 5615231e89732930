"""Cleaning one model reply into one sentence: labels, own tags, declines, the first sentence only."""

from __future__ import annotations

import pytest

from sdi.drafting.tasks import cite, clean_reply


@pytest.mark.parametrize("raw, sentence", [
    ("Sentence: The pump was replaced.", "The pump was replaced"),
    ("[H1] The pump was replaced [H1].", "The pump was replaced"),
    ('"The pump was replaced."', "The pump was replaced"),
    ("The visit found a leak. The customer asked for a quote.", "The visit found a leak"),
    ("The service visit found that the PROT. GLASS was dirty.", "The service visit found that the PROT. GLASS was dirty"),
    ("The machine was down approx. 3 h before we arrived.", "The machine was down approx. 3 h before we arrived"),
    ("\n\nThe pump was replaced\nSecond line", "The pump was replaced"),
    ("[LEAKING ACCUMULATOR; FITTED NEW ACCUMULATOR] - The visit found a leaking accumulator [H3].",
     "The visit found a leaking accumulator"),
    ("repair on PB2300-000154: leaking hyd cyl - c/o hyd cyl [H3].", "repair on PB2300-000154: leaking hyd cyl - c/o hyd cyl"),
])
def test_one_sentence_is_kept_without_labels_or_tags(raw: str, sentence: str) -> None:
    assert clean_reply(raw) == sentence


@pytest.mark.parametrize("raw", ["NOT IN RECORD", "not in record.", "", "  \n", "Pump replaced.",
                                 "Service record of 2024-01-13 repair on TL3030-001164: [H3].",
                                 "- Service record of 2011-05-16 repair on excavator C:",
                                 '"Service record of 2024-01-13 repair on TL3030-001164:"'])
def test_a_decline_or_a_fragment_gives_nothing(raw: str) -> None:
    assert clean_reply(raw) is None


def test_cite_ends_the_sentence_with_its_tag() -> None:
    assert cite("The pump was replaced", "H2") == "The pump was replaced [H2]."
