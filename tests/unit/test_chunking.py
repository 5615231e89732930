"""Chunking (spans, boundaries, ids), metadata extraction, BM25 tokenisation and the catalog's filters."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest

from retrieval.catalog import Catalog, Filters, date_int, int_date
from retrieval.chunking import chunk_text, content_hash, error_codes, part_numbers, split_spans
from retrieval.keyword import KeywordIndex, matched_terms, tokenize

NOTE = "E-417 hydraulic pressure low. Found pressure sensor faulty. Replaced P/N 4471-220. Test run ok."


def _random_text(rng: random.Random) -> str:
    words = ["valve", "E-417", "4471-220", "ok.", "leak;", "Ölstand", "x" * rng.randint(1, 700), "\n", "  ", "\t\n\n"]
    return "".join(rng.choice(words) + rng.choice((" ", "", ". ", "\n")) for _ in range(rng.randint(0, 200)))


def test_short_note_is_one_chunk_covering_the_trimmed_text() -> None:
    [chunk] = chunk_text("service_record:SR-1", "  " + NOTE + "\n")
    assert chunk.chunk_id == "service_record:SR-1#c0" and chunk.source_id == "service_record:SR-1"
    assert chunk.span == (2, 2 + len(NOTE)) and chunk.text == NOTE


@pytest.mark.parametrize("seed", range(40))
def test_spans_slice_the_text_exactly_and_respect_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    text = _random_text(rng)
    limit = rng.choice((40, 120, 500))
    chunks = chunk_text("document:M1/a.txt", text, limit)
    for n, c in enumerate(chunks):
        assert text[c.start : c.end] == c.text
        assert 0 < len(c.text) <= limit
        assert c.text == c.text.strip()
        assert c.chunk_id == f"document:M1/a.txt#c{n}"
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))
    # Nothing but whitespace is left out.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


def test_long_text_breaks_on_sentence_boundaries() -> None:
    sentences = [f"Sentence number {i} talks about the hydraulic unit and its pressure sensor." for i in range(20)]
    text = " ".join(sentences)
    chunks = chunk_text("service_record:SR-9", text, 200)
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("Sentence number") and c.text.endswith("sensor.")


def test_line_breaks_are_boundaries_and_an_unbreakable_word_is_hard_cut() -> None:
    text = "first line without stop\nsecond line\n" + "A" * 130
    spans = split_spans(text, 50)
    pieces = [text[s.start : s.end] for s in spans]
    assert pieces[0] == "first line without stop\nsecond line"
    assert "".join(pieces[1:]) == "A" * 130 and max(len(p) for p in pieces) == 50


def test_empty_and_blank_texts_have_no_chunks() -> None:
    assert chunk_text("x:1", "") == [] and chunk_text("x:1", " \n\t ") == []


def test_ids_are_stable_across_runs() -> None:
    text = ". ".join(["the same note again"] * 60)
    assert [c.chunk_id for c in chunk_text("service_record:SR-7", text)] == [
        c.chunk_id for c in chunk_text("service_record:SR-7", text)
    ]


def test_error_codes_and_part_numbers_are_found_and_normalised() -> None:
    text = "Alarm E-417 then E417 again, ERR-12 once; P/N 4471-220 and pn 4432-760 fitted; SR-000123 is an id"
    assert error_codes(text) == ["E-417", "ERR-12"]
    assert part_numbers(text) == ["4432-760", "4471-220"]
    assert error_codes("no codes in 2024-01-31 or 12345") == []


def test_content_hash_depends_on_text_and_model() -> None:
    assert content_hash("a", "m1") == content_hash("a", "m1")
    assert content_hash("a", "m1") != content_hash("a ", "m1")
    assert content_hash("a", "m1") != content_hash("a", "m2")


def test_tokens_keep_codes_whole_and_split() -> None:
    assert tokenize("E-417") == ["e-417", "417"]
    assert tokenize("e417") == ["e417", "e-417", "417"]
    assert tokenize("P/N 4471-220") == ["p/n", "4471-220", "4471", "220"]
    assert tokenize("the filters of the valves") == ["filter", "valve"]


def test_bm25_finds_codes_in_any_spelling_and_honours_the_mask() -> None:
    texts = ["machine stops with E-417", "alarm e417 again", "replaced pn 4471-220", "all ok", "E-418 low"]
    index = KeywordIndex.build(texts)
    assert {r for r, _ in index.top("E-417", 5)} == {0, 1}
    assert [r for r, _ in index.top("4471-220", 5)] == [2]
    assert [r for r, _ in index.top("P/N 4471-220", 5)][0] == 2
    mask = np.array([False, True, True, True, True])
    assert [r for r, _ in index.top("E-417", 5, mask)] == [1]
    assert index.top("nothing matches this", 5) == []
    assert matched_terms("E-417 pressure", texts[0]) == ["e-417", "417"]


def _rows() -> list[dict]:
    rows = []
    for i, (serial, model, cust, rtype, day) in enumerate([
        ("M1", "TL-3030", "C1", "repair", date(2020, 1, 5)),
        ("M2", "PB-1100", "C1", "maintenance", date(2021, 6, 1)),
        ("M3", "TL-3030", "C2", "repair", date(2022, 3, 9)),
        ("M1", "TL-3030", "C1", "inspection", date(2023, 7, 7)),
    ]):
        rows.append({"id": f"service_record:SR-{i}#c0", "text": f"note {i}", "source_id": f"service_record:SR-{i}",
                     "start": 0, "end": 6, "serial": serial, "customer": cust, "model": model, "type": rtype,
                     "date": date_int(day), "codes": "", "parts": ""})
    return rows


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), [0, 1, 2, 3]),
        (Filters(serial="M1"), [0, 3]),
        (Filters(customer="C1"), [0, 1, 3]),
        (Filters(model="TL-3030", exclude_serial="M1"), [2]),
        (Filters(record_type="repair"), [0, 2]),
        (Filters(date_from=date(2021, 6, 1), date_to=date(2022, 3, 9)), [1, 2]),
        (Filters(serial="nope"), []),
    ],
)
def test_catalog_mask_applies_every_filter(filters: Filters, expected: list[int]) -> None:
    catalog = Catalog(_rows())
    mask = catalog.mask(filters)
    got = list(range(len(catalog))) if mask is None else [int(i) for i in np.flatnonzero(mask)]
    assert got == expected


def test_filters_translate_to_a_chroma_where_clause() -> None:
    assert Filters().to_where() is None
    assert Filters(serial="M1").to_where() == {"serial": "M1"}
    assert Filters(model="X", exclude_serial="M1", date_from=date(2020, 1, 2)).to_where() == {
        "$and": [{"model": "X"}, {"serial": {"$ne": "M1"}}, {"date": {"$gte": 20200102}}]
    }
    assert int_date(20200102) == "2020-01-02" and int_date(0) is None


def test_catalog_round_trips_through_disk(tmp_path) -> None:
    catalog = Catalog(_rows(), generation="g1")
    catalog.save(tmp_path / "cat")
    assert Catalog.stamp(tmp_path / "cat") == "g1"
    loaded = Catalog.load(tmp_path / "cat")
    assert loaded is not None and loaded.rows == catalog.rows and loaded.generation == "g1"
    assert [r for r, _ in loaded.keyword.top("note 2", 1)] == [2]
    catalog.generation = "g2"
    catalog.save(tmp_path / "cat")
    assert Catalog.stamp(tmp_path / "cat") == "g2"
    assert Catalog.load(tmp_path / "missing") is None
