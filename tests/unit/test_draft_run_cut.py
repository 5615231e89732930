"""A model finding whose later clause fails the check is kept as its first clause, with the cut on record."""

from __future__ import annotations

from sdi.drafting.kinds.common import finding_prompt
from sdi.drafting.run import DraftRun
from sdi.drafting.tasks import head_clause, record_values
from sdi.llm.fake import FakeBackend

NOTE = "WORN STRIPPER PLATE - CHANGED STRIPPER PLATE - CHECKED WITH OPERATOR"


def _task(reply: str) -> tuple[DraftRun, str | None]:
    run = DraftRun("why", None, False, FakeBackend([reply]), audit=None, history=None)  # type: ignore[arg-type]
    src = run.open_book([]).add_history("service_record:SR-1", "2026-06-28 repair on PM500-000500", NOTE, None, "own")
    run.begin({}, finding_prompt())
    sentence = run.task(finding_prompt(), record_values(src), src.id, "findings")
    return run, sentence.text if sentence else None


def test_the_supported_first_clause_is_kept_and_the_cut_recorded() -> None:
    run, text = _task("The worn stripper plate was changed, and the customer asked for a 90 % discount.")
    assert text == "The worn stripper plate was changed [H1]."
    assert (run.check.checked, run.check.passed, run.check.cut) == (1, 1, 1)
    verdict = run.calls[0]["verdict"]
    assert "discount" in verdict["cut_from"] and verdict["cut_reason"] and verdict["text"] == text


def test_a_sentence_that_passes_whole_is_not_cut_and_a_failing_first_clause_keeps_nothing() -> None:
    run, text = _task("The worn stripper plate was changed, and it was checked with the operator.")
    assert text and "operator" in text and run.check.cut == 0
    run, text = _task("The customer asked for a 90 % discount, and the stripper plate was changed.")
    assert text is None and run.check.passed == 0 and run.check.cut == 0


def test_head_clause_needs_a_later_clause_and_five_words() -> None:
    assert head_clause("The hydraulic pump was replaced, which fixed the leak") == "The hydraulic pump was replaced"
    assert head_clause("The pump was replaced") is None
    assert head_clause("Pump replaced, and tested") is None
