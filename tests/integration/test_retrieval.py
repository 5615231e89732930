"""Retrieval end to end with the real bundled MiniLM model and real Chroma (embedded and `chroma run`)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from retrieval.catalog import Catalog, Filters
from retrieval.render import render_hits
from retrieval.embedder import SentenceTransformerEmbedder, get_embedder
from retrieval.indexer import IndexReport, run_index
from retrieval.retriever import Retriever, opportunity_queries
from retrieval.search import Searcher
from retrieval.vector_store import ChromaStore, EmbeddedChromaStore, ServerChromaStore
from sdi.errors import SdiError
from sdi.store import MachineFile
from tests.conftest import Exports
from tests.contracts.chroma_server import chroma_server  # noqa: F401 - the session fixture

SDI = str(Path(sys.executable).parent / "sdi")
LONG = (
    "Customer called because the press brake stopped twice during the night shift and the operator could not reset it. "
    "On arrival the machine was in manual mode and the hydraulic unit was warm but not hot. "
    "We checked the main pump coupling, the suction line and the tank breather, all of them were in order. "
    "Oil level in the sight glass was just above minimum, we topped it up with HLP 46. "
    "Then the controller showed alarm E-461 and the return filter indicator was red. "
    "Changed the hydraulic oil filter P/N 4432-760 and reset the alarm. "
    "Ran the test program for two hours without any fault; advised the operator to watch the filter indicator."
)
RECORDS = [
    ("SR-1", "M1", "2021-03-04", "repair", "Machine stops with E-417. Found hydraulic pressure sensor faulty. Replaced P/N 4471-220. Test run ok.", "4471-220"),
    ("SR-2", "M1", "2022-05-10", "maintenance", "2000h service, changed hydraulic oil filter, checked back gauge and light curtain.", ""),
    ("SR-3", "M1", "2023-01-15", "inspection", "Annual safety inspection, light curtain and e-stops ok, no findings.", ""),
    ("SR-4", "M2", "2021-07-01", "repair", "Hydraulic pressure low on night shift. Pressure sensor reading low, replaced sensor.", "4471-220"),
    ("SR-5", "M2", "2022-09-09", "repair", "Oil leak on main cylinder, replaced ram seal kit 4410-105.", "4410-105"),
    ("SR-6", "M3", "2022-02-02", "repair", "Laser power drop E-140, focus lens contaminated, cleaned lens and protective glass.", ""),
    ("SR-7", "M3", "2023-03-03", "replacement", "Replaced Y axis drive belt P/N 1251-870, old one worn beyond limit.", "1251-870"),
    ("SR-8", "M4", "2020-11-11", "repair", LONG, "4432-760"),
    ("SR-9", "M4", "2021-12-12", "repair", "Pressure sensor intermittent signal, E-417 reported by operator, swapped sensor.", "4471-220"),
    ("SR-10", "M1", "2020-06-06", "repair", "Hydraulic system pressure checked at 240 bar, pump noisy, rebuilt pump.", ""),
    ("SR-11", "M2", "2023-08-08", "maintenance", "Scheduled service, topped up hydraulic oil, greased ram guides.", ""),
    ("SR-12", "M4", "2024-02-20", "inspection", "Condition check, hydraulic oil temperature high, cleaned the oil cooler.", ""),
]
MACHINES = "serial,model,customer\nM1,PB-1100,C1\nM2,PB-1100,C2\nM3,TL-3030,C1\nM4,PB-1100,C1\nM5,PB-1100,C2\n"


class CountingEmbedder:
    """The real embedder, counting the texts it was asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.texts = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.encode(texts, batch_size)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the session."""
    return get_embedder()


def _write_records(exports: Exports, records: list[tuple[str, ...]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["record_id", "serial", "date", "type", "text", "parts"])
    writer.writerows(records)
    exports.write("machines.csv", MACHINES)
    exports.write("service_records.csv", buf.getvalue())
    exports.ingest([
        {"path": "machines.csv", "entity": "machine", "columns": {"serial": "serial", "model": "model", "customer_id": "customer"}},
        {"path": "service_records.csv", "entity": "service_record",
         "columns": {c: c for c in ("record_id", "serial", "date", "type", "text", "parts")}},
    ])


@dataclass
class Env:
    db: MachineFile
    store: ChromaStore
    embedder: CountingEmbedder
    catalog_dir: Path
    documents_dir: Path
    report: IndexReport

    def index(self) -> IndexReport:
        self.report = run_index(self.db, self.store, self.embedder, self.catalog_dir, self.documents_dir)
        return self.report

    def searcher(self, catalog_dir: Path | None = None) -> Searcher:
        return Searcher(self.store, self.embedder, catalog_dir or self.catalog_dir)

    def text(self, record_id: str) -> str:
        return self.db.scalar("SELECT text FROM service_records WHERE record_id = ?", [record_id])


@pytest.fixture()
def env(exports: Exports, db: MachineFile, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> Env:
    _write_records(exports, RECORDS)
    e = Env(db, EmbeddedChromaStore(tmp_path / "vs" / "chroma"), CountingEmbedder(embedder), tmp_path / "vs" / "catalog",
            tmp_path / "documents", IndexReport(store=""))
    e.index()
    return e


def test_first_index_embeds_every_chunk_with_its_metadata(env: Env) -> None:
    r = env.report
    assert (r.records, r.embedded, r.unchanged, r.removed) == (12, r.chunks, 0, 0) and r.chunks > 12
    meta = env.store.metadata(["service_record:SR-1#c0"])["service_record:SR-1#c0"]
    assert meta["serial"] == "M1" and meta["model"] == "PB-1100" and meta["customer"] == "C1"
    assert meta["date"] == 20210304 and meta["type"] == "repair"
    assert meta["codes"] == "E-417" and meta["parts"] == "4471-220" and len(meta["hash"]) == 24
    assert env.embedder.texts == r.chunks
    assert env.store.state()["embedding_model"] == "all-MiniLM-L6-v2"


def test_exact_error_code_and_part_number_find_their_records(env: Env) -> None:
    searcher = env.searcher()
    [top] = searcher.search("E-461", k=1)
    assert top.source_id == "service_record:SR-8" and "E-461" in top.text and top.matched_by in ("keyword", "both")
    assert "e-461" in top.matched_terms and top.codes == ["E-461"]
    hits = searcher.search("E-417", k=3)
    assert {h.source_id for h in hits} == {"service_record:SR-1", "service_record:SR-9"} | {hits[2].source_id}
    assert {h.source_id for h in hits[:2]} == {"service_record:SR-1", "service_record:SR-9"}
    assert searcher.search("e417", k=1)[0].source_id in ("service_record:SR-1", "service_record:SR-9")
    assert searcher.search("4410-105", k=1)[0].source_id == "service_record:SR-5"
    assert searcher.search("P/N 1251-870", k=1)[0].source_id == "service_record:SR-7"


def test_paraphrase_finds_records_by_meaning(env: Env) -> None:
    hits = env.searcher().search("cutting beam weaker than it should be", k=2, mode="dense")
    assert hits[0].source_id == "service_record:SR-6" and hits[0].matched_by == "dense"


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_filters_exclude_other_machines_in_every_mode(env: Env, mode: str) -> None:
    searcher = env.searcher()
    query = "hydraulic pressure sensor E-417"
    unfiltered = {h.serial for h in searcher.search(query, k=12, mode=mode)}
    assert len(unfiltered) > 1
    own = searcher.search(query, Filters(serial="M2"), k=12, mode=mode)
    assert own and {h.serial for h in own} == {"M2"}
    c1 = searcher.search(query, Filters(customer="C1"), k=12, mode=mode)
    assert c1 and {h.customer for h in c1} <= {"C1"} and "M2" not in {h.serial for h in c1}
    others = searcher.search(query, Filters(model="PB-1100", exclude_serial="M1"), k=12, mode=mode)
    assert others and {h.serial for h in others} <= {"M2", "M4"}
    window = searcher.search(query, Filters(date_from=date(2021, 1, 1), date_to=date(2021, 12, 31)), k=12, mode=mode)
    assert window and all("2021-01-01" <= h.date <= "2021-12-31" for h in window)
    repairs = searcher.search(query, Filters(record_type="maintenance"), k=12, mode=mode)
    assert {h.record_type for h in repairs} <= {"maintenance"}
    assert searcher.search(query, Filters(serial="M5"), k=5, mode=mode) == []


def test_spans_slice_the_original_text_exactly(env: Env) -> None:
    catalog = Catalog.load(env.catalog_dir)
    assert catalog is not None and len(catalog) == env.report.chunks
    long_chunks = [r for r in catalog.rows if r["source_id"] == "service_record:SR-8"]
    assert len(long_chunks) >= 2 and [r["id"] for r in long_chunks] == [f"service_record:SR-8#c{i}" for i in range(len(long_chunks))]
    for row in catalog.rows:
        text = env.text(row["source_id"].split(":", 1)[1])
        assert text[row["start"] : row["end"]] == row["text"]
    for hit in env.searcher().search("return filter indicator red, changed oil filter", k=5):
        assert env.text(hit.source_id.split(":", 1)[1])[hit.span[0] : hit.span[1]] == hit.text


def test_reindex_of_unchanged_records_is_a_no_op(env: Env) -> None:
    before = (env.store.state()["generation"], env.embedder.texts)
    report = env.index()
    assert (report.embedded, report.metadata_updated, report.removed) == (0, 0, 0)
    assert report.unchanged == report.chunks and env.embedder.texts == before[1]
    assert env.store.state()["generation"] == before[0] == report.generation


def test_changed_and_deleted_records_are_updated_and_removed(env: Env) -> None:
    searcher = env.searcher()
    assert searcher.search("E-461", k=1)[0].source_id == "service_record:SR-8"
    long_chunks = {cid for cid, m in env.store.metadata().items() if m["source_id"] == "service_record:SR-8"}
    env.db.con.execute("DELETE FROM service_records WHERE record_id = 'SR-8'")
    env.db.con.execute("UPDATE service_records SET text = 'Replaced proportional valve Y1, E-448 cleared.' WHERE record_id = 'SR-3'")
    env.db.con.execute("UPDATE service_records SET type = 'repair' WHERE record_id = 'SR-2'")
    counted = env.embedder.texts
    report = env.index()
    assert report.removed == len(long_chunks) >= 2 and report.embedded == 1 and report.metadata_updated == 1
    assert env.embedder.texts == counted + 1
    assert not long_chunks & set(env.store.metadata())
    assert env.store.metadata(["service_record:SR-2#c0"])["service_record:SR-2#c0"]["type"] == "repair"
    fresh = env.searcher()
    assert all(h.source_id != "service_record:SR-8" for h in fresh.search("E-461 return filter", k=12))
    assert fresh.search("E-448", k=1)[0].source_id == "service_record:SR-3"
    assert searcher.search("E-448", k=1)[0].source_id == "service_record:SR-3"  # a running searcher catches up


def test_documents_are_indexed_and_bad_ones_reported_not_fatal(env: Env) -> None:
    docs = env.documents_dir
    (docs / "M1").mkdir(parents=True)
    (docs / "M1" / "2024-05-02 visit.md").write_text("# Visit report\n\nCylinder seal weeping on the left side.\n\nOrdered seal kit 4410-105.")
    (docs / "M1" / "empty.txt").write_text("  \n")
    (docs / "M1" / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (docs / "M1" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "M1" / "notes.docx").write_bytes(b"PK\x03\x04")
    (docs / "M9").mkdir()
    (docs / "M9" / "other.txt").write_text("a machine we do not know")
    (docs / "loose.txt").write_text("not in a serial folder")
    report = env.index()
    assert report.documents_indexed == ["document:M1/2024-05-02 visit.md"]
    reasons = {r["path"]: r["reason"] for r in report.documents_refused}
    assert reasons["M1/empty.txt"] == "empty document"
    assert reasons["M1/photo.txt"].startswith("not a text file")
    assert reasons["M1/broken.pdf"].startswith("not a readable PDF")
    assert reasons["M1/notes.docx"].startswith("unsupported file type .docx")
    assert reasons["M9/other.txt"] == "serial M9 is not in the machine file"
    assert "serial folder" in reasons["loose.txt"]
    hit = env.searcher().search("seal kit weeping cylinder", Filters(serial="M1"), k=1)[0]
    assert hit.chunk_id.startswith("document:M1/2024-05-02 visit.md#c") and hit.record_type == "document"
    assert hit.date == "2024-05-02"
    original = (docs / "M1" / "2024-05-02 visit.md").read_text()
    assert original[hit.span[0] : hit.span[1]] == hit.text
    (docs / "M1" / "2024-05-02 visit.md").unlink()
    assert env.index().removed >= 1 and not [m for m in env.store.metadata().values() if m["kind"] == "document"]


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF showing `text` in Helvetica (enough for pypdf's text extraction)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_service_report_is_indexed_from_its_text(env: Env) -> None:
    (env.documents_dir / "M3").mkdir(parents=True)
    (env.documents_dir / "M3" / "report.pdf").write_bytes(_pdf("Chiller flow too low E-131, chiller filter blocked"))
    report = env.index()
    assert report.documents_indexed == ["document:M3/report.pdf"] and report.documents_refused == []
    top = env.searcher().search("E-131", k=1)[0]
    assert top.chunk_id == "document:M3/report.pdf#c0" and "chiller filter blocked" in top.text


def test_retriever_returns_own_sources_then_marked_similar_cases(env: Env) -> None:
    opportunity = {
        "id": "OPP-1", "serial": "M1", "model": "PB-1100", "campaign": "immediate service call",
        "triggers": [{"rule_id": "error_pattern", "campaign": "immediate service call / spare parts quote",
                      "condition": {"field": "event.code", "operator": ">=", "threshold": 3, "value": 4},
                      "evidence": {"source_ids": ["event:EV-1"], "facts": {"codes": ["E-417"], "window_days": 30}}}],
    }
    assert opportunity_queries(opportunity)[0] == "E-417"
    result = Retriever(env.searcher()).retrieve_for_opportunity(opportunity, k_own=3, k_similar=2)
    assert result.own and all(s.serial == "M1" and s.scope == "own" for s in result.own)
    assert result.own[0].record_id == "service_record:SR-1" and "E-417" in result.own[0].text
    assert len(result.similar) == 2 and all(s.scope == "similar" for s in result.similar)
    assert {s.serial for s in result.similar} <= {"M2", "M4"}
    assert "service_record:SR-9" in {s.record_id for s in result.similar}
    assert [s.scope for s in result.sources] == ["own"] * len(result.own) + ["similar"] * 2
    json.dumps(result.to_dict())


def test_empty_query_and_empty_index_are_user_errors(env: Env, tmp_path: Path) -> None:
    with pytest.raises(SdiError, match="query is empty"):
        env.searcher().search("   ")
    empty = Searcher(EmbeddedChromaStore(tmp_path / "other"), env.embedder, tmp_path / "other-cat")
    with pytest.raises(SdiError, match="index is empty"):
        empty.search("E-417")


def test_a_shared_chroma_server_serves_a_second_instance(env: Env, chroma_server: str, tmp_path: Path) -> None:  # noqa: F811
    name = f"sdi_{uuid.uuid4().hex[:8]}"
    store = ServerChromaStore(chroma_server, name)
    first = run_index(env.db, store, env.embedder, tmp_path / "a" / "catalog")
    assert first.embedded == first.chunks == env.report.chunks and first.store.startswith("Chroma server at")
    # Another SDI instance: its own client and an empty local catalog.
    other_instance = Searcher(ServerChromaStore(chroma_server, name), env.embedder, tmp_path / "b" / "catalog")
    hits = other_instance.search("E-461", Filters(model="PB-1100"), k=2)
    assert hits[0].source_id == "service_record:SR-8"
    assert Catalog.stamp(tmp_path / "b" / "catalog") == first.generation
    env.db.con.execute("DELETE FROM service_records WHERE record_id = 'SR-8'")
    second = run_index(env.db, store, env.embedder, tmp_path / "a" / "catalog")
    assert second.removed >= 2 and second.generation != first.generation
    other_instance._checked = 0.0  # skip the recheck interval
    assert all(h.source_id != "service_record:SR-8" for h in other_instance.search("E-461", k=5))
    assert run_index(env.db, store, env.embedder, tmp_path / "a" / "catalog").embedded == 0


def test_cli_index_and_search(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    exports_dir = tmp_path / "exports"
    exports_dir.mkdir()
    with MachineFile(home / "machine-file.duckdb") as handle:
        _write_records(Exports(exports_dir, handle), RECORDS)
    env = {**sdi_env, "SDI_HOME": str(home)}
    empty = subprocess.run([SDI, "search", "E-417"], capture_output=True, text=True, env=env, timeout=300)
    assert empty.returncode == 2 and "index is empty" in empty.stderr and "sdi index" in empty.stderr
    done = subprocess.run([SDI, "index", "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["records"] == 12 and report["embedded"] == report["chunks"]
    found = subprocess.run([SDI, "search", "E-417", "--serial", "M4", "-k", "2", "--json"], capture_output=True,
                           text=True, env=env, timeout=300)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert hits[0]["source_id"] == "service_record:SR-9" and hits[0]["serial"] == "M4"
    assert hits[0]["matched_by"] in ("keyword", "both") and hits[0]["span"] == [0, len(RECORDS[8][4])]
    listing = render_hits("E-417", hits)
    assert listing.startswith("1. service_record:SR-9#c0  chars 0-") and "M4 · PB-1100 · 2021-12-12 · repair" in listing


def test_demo_query_set_is_labelled_by_rules_over_the_data(tmp_path: Path) -> None:
    from sdi.demo import generator as demo
    from connectors.ingest import ingest
    from eval.retrieval_eval import TYPE_QUERIES, VIBRATION_QUERY, _contains, build_demo_queries

    demo.generate(tmp_path / "demo", machines=400, seed=42)
    with MachineFile(tmp_path / "demo.duckdb") as handle:
        ingest(handle, tmp_path / "demo" / "mapping.yaml")
        queries = build_demo_queries(handle)
        rows = handle.sql("SELECT r.record_id, r.serial, r.type, r.text, coalesce(r.parts, ''), m.customer_id "
                          "FROM service_records r JOIN machines m USING (serial)")
    assert len(queries) >= 100 and len({q["id"] for q in queries}) == len(queries)
    assert {q["type"] for q in queries} == {"code", "symptom", "part", "component", "type", "vibration"}
    by_id = {r[0]: r for r in rows}
    for q in queries:
        [(field, value)] = q["filters"].items()
        scope = [r for r in rows if (r[5] if field == "customer" else r[1]) == value]
        rule = {
            "code": lambda r: _contains(r[3], q["query"].split()[-1]),
            "part": lambda r: _contains(r[3], q["query"].split()[-1]),
            "type": lambda r: r[2] == next(t for t, text in TYPE_QUERIES.items() if text == q["query"]),
            "vibration": lambda r: "mm/s" in r[3] and q["query"] == VIBRATION_QUERY,
        }.get(q["type"])
        assert 1 <= len(q["relevant"]) <= 5 and all(by_id[rid] in scope for rid in q["relevant"])
        if rule is not None:  # the label is exactly the records in scope that satisfy the rule
            assert sorted(r[0] for r in scope if rule(r)) == q["relevant"]


def test_a_request_question_finds_the_note_that_records_the_request(env: Env) -> None:
    env.db.con.execute("UPDATE service_records SET text = text || ' Cust wants offer for maintenance contract.' "
                       "WHERE record_id = 'SR-10'")  # M1's oldest record
    env.index()
    retriever = Retriever(env.searcher())
    [top, *_] = retriever.retrieve_for_question("What did the customer ask for?", Filters(serial="M1"), 3)
    assert top.record_id == "service_record:SR-10" and "offer for maintenance contract" in top.text
    assert env.text("SR-10")[top.span[0] : top.span[1]] == top.text


def test_a_last_visit_question_returns_the_latest_record_first(env: Env) -> None:
    found = Retriever(env.searcher()).retrieve_for_question("When was the last service visit?", Filters(serial="M4"), 3)
    assert [s.record_id for s in found] == ["service_record:SR-12", "service_record:SR-9", "service_record:SR-8"]
    assert found[0].date == "2024-02-20" and found[0].matched_by == "date"
