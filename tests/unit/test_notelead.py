"""The note-lead matcher: English, German, technicians' shorthand and typos, negation and closure; the SQL the
note_lead rule runs gives the same leads byte for byte; the labelled set keeps its floor."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from eval.note_leads_eval import evaluate
from sdi.triggers.notelead import Lead, find_leads, fuzzy
from sdi.triggers.rules import note_lead

LABELLED = Path(__file__).resolve().parents[2] / "eval" / "note_leads" / "labelled.jsonl"


def _one(text: str) -> Lead:
    leads = find_leads(text)
    assert len(leads) == 1, leads
    return leads[0]


@pytest.mark.parametrize(("text", "kind", "offer", "span"), [
    ("recommend retrofit of control, spare parts for this generation getting hard to source", "recommendation",
     "retrofit", "recommend retrofit of control"),
    ("ok, no defects. cust asked about price of wear parts kit. test run ok", "customer_request", "parts_kit",
     "cust asked about price of wear parts kit"),
    ("customer wants offer for maintenance contract", "customer_request", "contract",
     "customer wants offer for maintenance contract"),
    ("c/o prot. glass. p/n 1203-145. quote to follow.", "recommendation", "quote", "quote to follow"),
    ("customer unhappy about downtime, wants faster response", "customer_request", "contract",
     "customer unhappy about downtime, wants faster response"),
    ("VISUAL INSP; FOUND TURRET INDEX PIN WORN, RECOMMEND CHANGE OUT", "recommendation", "repair",
     "RECOMMEND CHANGE OUT"),
    ("also chk dress pack, chafed, to be repl next visit", "recommendation", "repair", "to be repl next visit"),
    ("over alarm limit, quote for bearing kit sent", "recommendation", "parts_kit", "quote for bearing kit sent"),
])
def test_english_notes(text: str, kind: str, offer: str, span: str) -> None:
    lead = _one(text)
    assert (lead.kind, lead.offer, lead.span) == (kind, offer, span)
    assert text[lead.start:lead.end] == span


@pytest.mark.parametrize(("text", "kind", "offer"), [
    ("Kd. wünscht Angebot für Wartungsvertrag", "customer_request", "contract"),
    ("KUNDE WÜNSCHT ANGEBOT FÜR GENERALÜBERHOLUNG", "customer_request", "overhaul"),
    ("Steuerung veraltet, Nachrüstung empfohlen", "recommendation", "retrofit"),
    ("Kunde hat nach Preis für Verschleißteilpaket gefragt", "customer_request", "parts_kit"),
    ("Speicher sollte getauscht werden", "recommendation", "repair"),
    ("Empfehlung: Riemen tauschen bei nächster Wartung", "recommendation", "repair"),
    ("Kd. möchte Schulung für neue Bediener", "customer_request", "training"),
])
def test_german_notes(text: str, kind: str, offer: str) -> None:
    lead = _one(text)
    assert (lead.kind, lead.offer) == (kind, offer)


@pytest.mark.parametrize("text", [
    "reccomend wear parts kit on stock", "recomend wear parts kit on stock", "recommand wear parts kit on stock",
    "rec. wear parts kit on stock", "recom. wear parts kit on stock", "rceommend wear parts kit on stock",
    "RECOMMMEND WEAR PARTS KIT ON STOCK", "sugest wear parts kit on stock", "advised cust to keep spare nozzles",
])
def test_abbreviations_and_typos(text: str) -> None:
    assert _one(text).offer == "parts_kit"


@pytest.mark.parametrize("text", [
    "no quote needed", "PM done, no quote needed", "customer declined offer for maintenance contract",
    "cust not interested in maintenance contract", "Cust. declined quote for retrofit", "Chubb-repair SHD26 fas per quote",
    "replaced belt as recommended last visit", "Kein Angebot nötig", "Kunde lehnt Angebot für Generalüberholung ab",
    "Angebot für Wartungsvertrag bereits abgelehnt", "Jahreswartung lt. Angebot durchgeführt",
    "kein Bedarf an Wartungsvertrag lt. Kunde",
])
def test_negated_or_closed_is_no_lead(text: str) -> None:
    assert find_leads(text) == []


@pytest.mark.parametrize("text", [
    "c/o return filter. PN 4432-760. cust requested", "advised operator to clean daily, monitor at next visit",
    "spoke with maintenance manager and advised to call the hotline before resetting alarms",
    "customer mentioned second shift starting next month", "operator says machine is getting louder",
    "Hoses need replacing", "customer asked for the old parts back", "return visit needed, waiting on parts", "",
])
def test_no_offer_is_no_lead(text: str) -> None:
    assert find_leads(text) == []


def test_several_leads_in_text_order() -> None:
    leads = find_leads("cust wants quote for new cutting head, quote to follow next week")
    assert [(lead.kind, lead.offer) for lead in leads] == [("customer_request", "repair"), ("recommendation", "quote")]
    assert leads[0].end <= leads[1].start


def test_fuzzy_covers_one_slip() -> None:
    import re

    pattern = re.compile(fuzzy("recommend"))
    assert all(pattern.fullmatch(w) for w in ("recommend", "rcommend", "recommmend", "recomemnd"))


def test_sql_gives_the_same_leads_as_python() -> None:
    texts = [json.loads(line)["text"] for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    texts += ["Überholung empfohlen. Kd. wünscht KVA für Generalüberholung; no quote needed", "a\x01b quote to follow"]
    con = duckdb.connect()
    con.execute("CREATE TABLE _base AS SELECT 'M' || i AS serial FROM range(?) t(i)", [len(texts)])
    con.execute("CREATE TABLE service_records(record_id VARCHAR, serial VARCHAR, date DATE, text VARCHAR)")
    con.executemany("INSERT INTO service_records VALUES (?, ?, DATE '2026-06-01', ?)",
                    [(f"R{i}", f"M{i}", t) for i, t in enumerate(texts)])
    leads = note_lead._leads(lambda name: "180", date(2026, 6, 30))  # type: ignore[arg-type]
    rows = con.sql(f"WITH {leads} SELECT record_id, kind, offer, start, stop, span FROM leads "
                   "WHERE offer IS NOT NULL ORDER BY record_id, start").fetchall()
    got: dict[str, list[tuple[object, ...]]] = {}
    for row in rows:
        got.setdefault(row[0], []).append(tuple(row[1:]))
    for i, text in enumerate(texts):
        assert got.get(f"R{i}", []) == [(x.kind, x.offer, x.start, x.end, x.span) for x in find_leads(text)], text


@pytest.mark.parametrize("split", ["dev", "test"])
def test_labelled_set_floor(split: str) -> None:
    result = evaluate(split)
    assert result["notes"] >= 150
    assert result["precision"] >= 0.9 and result["recall"] >= 0.8, result["errors"]
    assert result["offer_accuracy"] >= 0.85


def test_a_catalogue_offer_can_answer_one_offer_kind_of_note_lead() -> None:
    from sdi.triggers.opportunities import _answers
    from sdi.triggers.types import Trigger

    lead = {"offer": "parts_kit", "kind": "customer_request", "span": "cust asked about price of wear parts kit"}
    trig = Trigger("note_lead:M1", "note_lead", 1, "v", "lead from a service note", "M1", None, "2026-06-30", "fired",
                   {}, [], {"source_ids": ["service_record:R1"], "facts": {"leads": [lead]}})
    assert _answers(trig) == ("note_lead", "note_lead:parts_kit")
    assert _answers(Trigger("wear:M1", "wear", 1, "v", "c", "M1", None, "2026-06-30", "fired", {}, [],
                            {"source_ids": []})) == ("wear",)
