"""The scoring of `sdi eval drafts` on hand-made drafts with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.drafts_eval import (ask_right, copies_its_record, percentile, pick_questions, rejected, resolve_opportunity,
                              says_not_answered, states_history_fact, summarize, verdicts)


def draft(*sentences: tuple[str, list[str], str], checked: int = 0, passed: int = 0) -> dict[str, Any]:
    return {"sentences": [{"text": t, "citations": c, "origin": o, "section": "body"} for t, c, o in sentences],
            "check": {"checked": checked, "passed": passed, "repaired": 0, "dropped": 0, "failures": []}}


def run(kind: str, d: dict[str, Any], total: float, first: float, first_llm: float | None = None) -> dict[str, Any]:
    return {"kind": kind, "subject": {}, "draft": d, "total_s": total, "first_s": first, "first_llm_s": first_llm}


FACT = draft(("Machine is 9 years old [T1].", ["T1"], "template"),
             ("The visit found a leaking cylinder [H2].", ["H2"], "llm"), checked=3, passed=1)
TEMPLATE_ONLY = draft(("The visit on 2026-03-01 replaced a hose [H1].", ["H1"], "template"))
TRIGGER_ONLY = draft(("The machine logged 44 errors [T1].", ["T1"], "llm"), checked=2, passed=1)
NOT_ANSWERED = draft(("The records for machine M1 do not answer this question [T1].", ["T1"], "template"),
                     ("Closest record: customer wants offer for maintenance contract [H1].", ["H1"], "template"))
ANSWERED = draft(("The customer asked for an offer for a Maintenance Contract [H1].", ["H1"], "llm"), checked=1, passed=1)


def test_history_fact_needs_an_accepted_model_sentence_citing_history() -> None:
    assert states_history_fact(FACT)
    assert not states_history_fact(TEMPLATE_ONLY)  # template text is not the model's
    assert not states_history_fact(TRIGGER_ONLY)  # a model sentence, but on a trigger fact


def test_ask_right_for_answerable_and_unanswerable_questions() -> None:
    answerable = {"question": "What did the customer ask for?", "answerable": True, "expect": ["maintenance contract"]}
    unanswerable = {"question": "What colour is the machine?", "answerable": False, "expect": []}
    assert ask_right(ANSWERED, answerable)  # case-insensitive phrase in a model sentence
    assert not ask_right(NOT_ANSWERED, answerable)  # the phrase is only in template text ("Closest record")
    assert says_not_answered(NOT_ANSWERED) and ask_right(NOT_ANSWERED, unanswerable)
    assert not ask_right(ANSWERED, unanswerable)


def test_ask_right_counts_the_records_own_words_apart_from_the_model() -> None:
    q = {"question": "When was the last visit?", "answerable": True, "expect": ["2026-09-12"]}
    quoted = {"sentences": [{"text": "The record of 2026-09-12 repair on M1 says: “swapped lube pump” [H1].",
                             "citations": ["H1"], "origin": "template", "section": "answer"}]}
    dated = draft(("The visit was on September 12, 2026 [H1].", ["H1"], "llm"), checked=1, passed=1)
    assert ask_right(quoted, q) and not ask_right(quoted, q, model_only=True)
    assert ask_right(dated, q, model_only=True)  # a date in another format is the same date
    assert not ask_right(TEMPLATE_ONLY, q)  # a template sentence outside the answer is no answer


def test_percentile_interpolates_and_orders() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 95) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)


def test_summary_arithmetic_and_targets() -> None:
    runs = [run("why", FACT, 8.0, 0.2, 2.0), run("why", TRIGGER_ONLY, 6.0, 0.3, 1.0),
            run("brief", FACT, 12.0, 0.1, 3.0), run("brief", TEMPLATE_ONLY, 9.0, 0.1)]
    qa = {"question": "q", "answerable": True, "expect": ["maintenance contract"]}
    qn = {"question": "q", "answerable": False, "expect": []}
    asked = [(qa, run("ask", ANSWERED, 3.0, 1.0)), (qa, run("ask", NOT_ANSWERED, 1.0, 1.0)),
             (qn, run("ask", NOT_ANSWERED, 1.0, 1.0))]
    row = summarize(runs, asked)
    assert row["kinds"]["why"]["history_fact"] == {"hits": 1, "total": 2, "share": 0.5}
    assert row["kinds"]["brief"]["history_fact"]["share"] == 0.5
    assert row["acceptance"] == {"passed": 3, "checked": 8, "rate": 0.375, "cut": 0, "whole_rate": 0.375}  # why and brief only: 1+1+1+0 of 3+2+3+0
    assert row["ask_answerable"] == {"hits": 1, "total": 2, "share": 0.5}
    assert row["ask_unanswerable"] == {"hits": 1, "total": 1, "share": 1.0}
    assert row["kinds"]["brief"]["total_s"]["p50"] == 10.5
    assert row["first_model_sentence_s"]["n"] == 3  # the draft without a model sentence is left out
    check = {"reject_recall": 0.96, "accept_recall": 0.7}
    t = verdicts(row, check)
    assert t["why_history_fact"] is False and t["acceptance"] is False and t["ask_unanswerable"] is True
    assert t["check_rejects_unsupported"] is True and t["check_accepts_supported"] is False
    assert t["brief_p50_s"] is False and t["first_sentence_p95_s"] is True


def test_a_quote_of_the_record_is_counted_apart_from_a_sentence_about_it() -> None:
    record = {"H1": "2026-10-06 maintenance on PM500-000590: scheduled service @ 22563 h; spoke with operator and "
                    "advised to call the hotline before resetting alarms; greased index pins, tested e-stops"}
    quote = {"text": "scheduled service @ 22563 h; spoke with operator and advised to call the hotline [H1].",
             "citations": ["H1"]}
    said = {"text": "The technician advised the operator to call the hotline before resetting alarms [H1].",
            "citations": ["H1"]}
    assert copies_its_record(quote, record) and not copies_its_record(said, record)
    quoting = draft((quote["text"], ["H1"], "llm"), (said["text"], ["H1"], "llm"), checked=2, passed=2)
    quoting["sources"] = [{"id": "H1", "text": record["H1"]}]
    row = summarize([run("why", quoting, 5.0, 0.1, 1.0), run("brief", TEMPLATE_ONLY, 1.0, 0.1)], [])
    assert row["copies"] == {"hits": 1, "total": 2, "share": 0.5}


def test_template_model_has_no_acceptance_and_misses_the_target() -> None:
    row = summarize([run("why", TEMPLATE_ONLY, 0.1, 0.0), run("brief", TEMPLATE_ONLY, 0.1, 0.0)], [])
    assert row["acceptance"] == {"passed": 0, "checked": 0, "rate": None, "cut": 0, "whole_rate": None}
    assert row["ask_answerable"]["share"] is None
    t = verdicts(row, {"reject_recall": None, "accept_recall": None})
    assert t["acceptance"] is False and t["ask_answerable"] is None and t["check_rejects_unsupported"] is None


def test_question_selection_and_resolution() -> None:
    questions = [{"question": f"a{i}", "serial": "M1", "answerable": True, "expect": ["x"]} for i in range(3)]
    questions += [{"question": "u", "serial": "M2", "opportunity": "OPP-2", "answerable": False, "expect": []},
                  {"question": "gone", "serial": "NOPE", "answerable": False, "expect": []}]
    chosen = pick_questions(questions, 2)
    assert [q["question"] for q in chosen] == ["a0", "a1", "u", "gone"]
    opps = [{"id": "OPP-1", "serial": "M1"}, {"id": "OPP-2", "serial": "M2"}, {"id": "OPP-3", "serial": "M1"}]
    assert [resolve_opportunity(q, opps) for q in chosen] == ["OPP-1", "OPP-1", "OPP-2", None]


def test_rejected_sentences_keep_their_reason_and_cited_text_for_labelling() -> None:
    d = {**FACT, "sources": [{"id": "H2", "text": "2026-01-02 repair on M1: hose leaking"}]}
    d["check"] = {**d["check"], "failures": [{"text": "The visit found a cracked hose [H2].", "reason": "state 'crack'"}]}
    assert rejected(d) == [{"text": "The visit found a cracked hose [H2].", "reason": "state 'crack'",
                            "sources": {"H2": "2026-01-02 repair on M1: hose leaking"}}]


def test_the_base_fingerprint_changes_with_the_code_that_builds_it(tmp_path: Path) -> None:
    from eval.drafts_eval import code_fingerprint

    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "make.py").write_text("ROWS = 1\n")
    (tmp_path / "rules.yaml").write_text("a: 1\n")
    (tmp_path / "gen" / "notes.txt").write_text("not code")
    first = code_fingerprint(tmp_path, ("gen", "rules.yaml"))
    (tmp_path / "gen" / "notes.txt").write_text("still not code")
    assert code_fingerprint(tmp_path, ("gen", "rules.yaml")) == first
    (tmp_path / "gen" / "make.py").write_text("ROWS = 2\n")
    assert code_fingerprint(tmp_path, ("gen", "rules.yaml")) != first
