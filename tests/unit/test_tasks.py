"""Cleaning one model reply into one sentence: labels, own tags, declines, the first sentence only."""

from __future__ import annotations

import pytest

from sdi.drafting.tasks import cite, clean_reply, sentence_done


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


@pytest.mark.parametrize("raw,done", [
    ("The visit found a worn belt [H1].", False),  # the sentence may still go on: "… [H1]. It was" or end here
    ("The visit found a worn belt [H1]. The", True),
    ("The visit found approx. 3 h of", False),  # an abbreviation's full stop ends nothing
    ("[WORN PADS. SWAPPED", False),  # inside the note the model echoes
    ("[WORN PADS. SWAPPED PADS.] - The visit found worn pads [H1]. It", True),
])
def test_generation_stops_once_a_second_sentence_starts(raw: str, done: bool) -> None:
    assert sentence_done(raw) is done
    if done:  # what is kept is what the whole reply would have given
        assert clean_reply(raw) == clean_reply(raw + " was replaced the same day [H1].")
