"""Connector tests on messy exports, on a real DuckDB machine file: every row is stored or explained."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from connectors.ingest import IngestReport
from sdi.errors import MappingError
from tests.conftest import MACHINE_MAP, Exports

SR_MAP = {
    "path": "records.csv",
    "entity": "service_record",
    "columns": {"serial": "machine", "date": "when", "text": "note", "cost": "cost"},
}


def balanced(report: IngestReport) -> None:
    for f in report.files:
        assert f.rows_read == f.rows_stored + f.rows_rejected, f
        assert len([r for r in f.rejections if r.scope == "row"]) == f.rows_rejected


def test_bad_dates_are_rejected_with_line_value_and_column(with_machines: Exports) -> None:
    with_machines.write(
        "records.csv",
        "machine,when,note,cost\nM1,2024-01-05,Replaced hyd hose,120.5\nM1,31.02.2024,bad day,\nM2,05.03.2024,chk oil,\n",
    )
    report = with_machines.ingest([SR_MAP])
    f = report.files[0]
    balanced(report)
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (3, 2, 1)
    [rej] = f.rejections
    assert rej.line == 3 and "'31.02.2024'" in rej.reason and "column when" in rej.reason
    dates = with_machines.db.sql("SELECT date FROM service_records ORDER BY date")
    assert [d for (d,) in dates] == [date(2024, 1, 5), date(2024, 3, 5)]


def test_mapped_column_missing_from_file_stops_before_writing(with_machines: Exports) -> None:
    with_machines.write("records.csv", "machine,when,text\nM1,2024-01-05,x\n")
    with pytest.raises(MappingError) as err:
        with_machines.ingest([SR_MAP])
    assert "'note'" in str(err.value) and "machine, when, text" in str(err.value)
    assert with_machines.db.scalar("SELECT count(*) FROM service_records") == 0


def test_duplicate_serials_identical_merge_and_conflicting_are_explained(exports: Exports) -> None:
    exports.write("machines.csv", "serial,model,customer\nM1,TL-3030,C1\nM1,TL-3030,C1\nM2,A,C1\nM2,B,C1\n")
    report = exports.ingest([MACHINE_MAP])
    f = report.files[0]
    balanced(report)
    assert (f.rows_stored, f.rows_rejected, f.duplicates_merged) == (3, 1, 1)
    [rej] = f.rejections
    assert rej.line == 4 and "superseded by line 5" in rej.reason
    assert exports.db.sql("SELECT serial, model FROM machines ORDER BY serial") == [("M1", "TL-3030"), ("M2", "B")]


def test_bom_semicolons_and_decimal_commas(exports: Exports) -> None:
    exports.write("machines.csv", "\ufeffSerialNo;Model;Hours\nM1;TL-3030;1.234,5\nM2;PB-1100;99,25\n")
    report = exports.ingest(
        [{"path": "machines.csv", "entity": "machine", "columns": {"serial": "SerialNo", "model": "Model", "operating_hours": "Hours"}}]
    )
    balanced(report)
    assert "delimiter ';'" in report.files[0].notes
    assert exports.db.sql("SELECT serial, operating_hours FROM machines ORDER BY 1") == [("M1", 1234.5), ("M2", 99.25)]


def test_empty_file_and_header_only_file_import_nothing_without_failing(exports: Exports) -> None:
    exports.write("empty.csv", "")
    exports.write("header.csv", "serial,model\n")
    report = exports.ingest(
        [
            {"path": "empty.csv", "entity": "machine", "columns": {"serial": "serial", "model": "model"}},
            {"path": "header.csv", "entity": "machine", "columns": {"serial": "serial", "model": "model"}},
        ]
    )
    balanced(report)
    assert [f.rows_read for f in report.files] == [0, 0]
    assert any("empty" in n for n in report.files[0].notes)


def test_xlsx_with_date_cells_title_rows_and_sheet_choice(exports: Exports) -> None:
    book = Workbook()
    book.active.title = "Cover"
    book.active.append(["not this sheet"])
    ws = book.create_sheet("Models")
    ws.append([])
    ws.append(["Model", "Interval (h)", "EOL", "Discontinued"])
    ws.append(["TL-3030", 500, datetime(2025, 6, 30), "yes"])
    ws.append(["PB-1100", "2.000,0", None, "no"])
    ws.append(["XX", "lots", None, "maybe"])
    book.save(exports.folder / "models.xlsx")
    report = exports.ingest(
        [
            {
                "path": "models.xlsx",
                "entity": "model",
                "sheet": "Models",
                "columns": {"model": "Model", "maintenance_interval_hours": "Interval (h)", "end_of_life": "EOL", "parts_discontinued": "Discontinued"},
            }
        ]
    )
    f = report.files[0]
    balanced(report)
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (3, 2, 1)
    assert f.rejections[0].line == 5 and f.rejections[0].location == "row"
    assert "'lots' is not a number" in f.rejections[0].reason and "'maybe' is not yes/no" in f.rejections[0].reason
    assert exports.db.sql("SELECT * EXCLUDE (source_file, source_line, source_id, successor) FROM models ORDER BY 1") == [
        ("PB-1100", 2000.0, None, False),
        ("TL-3030", 500.0, date(2025, 6, 30), True),
    ]


def test_ragged_rows_unknown_machines_and_windows_1252(with_machines: Exports) -> None:
    content = "machine,when,note,cost\nM1,2024-01-05,Ölwechsel durchgeführt,10\nM1,2024-01-06,too,many,fields,here\nZZ9,2024-01-07,ghost,1\n"
    with_machines.write("records.csv", content, encoding="cp1252")
    report = with_machines.ingest([SR_MAP])
    f = report.files[0]
    balanced(report)
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (3, 1, 2)
    reasons = {r.line: r.reason for r in f.rejections}
    assert "6 fields, the header has 4" in reasons[3]
    assert "unknown machine serial 'ZZ9'" in reasons[4]
    assert any("Windows-1252" in n for n in f.notes)
    assert with_machines.db.scalar("SELECT text FROM service_records") == "Ölwechsel durchgeführt"


def test_json_and_parquet_readers(with_machines: Exports) -> None:
    with_machines.write(
        "offers.json",
        '[{"id": "OF-1", "name": "Spindle check", "price": 490, "models": ["TL-3030", "PB-1100"]},'
        ' {"id": "OF-2", "name": "No price"}, 7]',
    )
    pq.write_table(
        pa.table({"sn": ["M1", "M2"], "ts": [datetime(2024, 1, 1, 8), datetime(2024, 1, 2, 9)], "code": ["E-417", "E-101"]}),
        with_machines.folder / "events.parquet",
    )
    report = with_machines.ingest(
        [
            {"path": "offers.json", "entity": "service_offer", "columns": {"offer_id": "id", "name": "name", "price": "price", "models": "models"}},
            {"path": "events.parquet", "entity": "event", "columns": {"serial": "sn", "timestamp": "ts", "code": "code"}, "values": {"kind": "error"}},
        ]
    )
    balanced(report)
    events, offers = report.files  # reported in import order: machines and their records before catalogs
    assert (offers.rows_read, offers.rows_stored, offers.rows_rejected) == (3, 1, 2)
    assert {r.line for r in offers.rejections} == {2, 3}
    assert with_machines.db.sql("SELECT models FROM service_offers") == [(["TL-3030", "PB-1100"],)]
    assert events.rows_stored == 2
    assert with_machines.db.sql("SELECT serial, timestamp FROM events ORDER BY 1")[1] == ("M2", datetime(2024, 1, 2, 9))


def test_wide_telemetry_becomes_long_and_bad_values_are_listed(with_machines: Exports) -> None:
    with_machines.write(
        "tel.csv",
        "serial,day,hours,vib\nM1,2024-01-01,100,2.5\nM1,2024-01-02,110,n/a\nM1,2024-01-03,120,abc\nM2,2024-01-01,,\n",
    )
    report = with_machines.ingest(
        [{"path": "tel.csv", "entity": "telemetry", "columns": {"serial": "serial", "timestamp": "day"}, "metrics": {"operating_hours": "hours", "vibration": "vib"}}]
    )
    f = report.files[0]
    balanced(report)
    assert (f.rows_read, f.rows_stored, f.rows_rejected, f.values_stored) == (4, 3, 1, 4)
    value_problems = [r for r in f.rejections if r.scope == "value"]
    assert [(r.line, r.reason) for r in value_problems] == [(4, "vibration: 'abc' is not a number (column vib)")]
    assert [r.line for r in f.rejections if r.scope == "row"] == [5]
    ids = [s for (s,) in with_machines.db.sql("SELECT source_id FROM telemetry ORDER BY 1")]
    assert ids[0] == "telemetry:M1/operating_hours@2024-01-01T00:00:00"


def test_reimport_changes_nothing_and_a_changed_row_updates(with_machines: Exports) -> None:
    with_machines.write("contracts.csv", "id,sn,kind,end\nC1,M1,Maintenance,2026-12-01\nC2,M2,warranty,2027-01-01\n")
    files = [{"path": "contracts.csv", "entity": "contract", "columns": {"contract_id": "id", "serial": "sn", "type": "kind", "end_date": "end"}}]
    first = with_machines.ingest(files).files[0]
    snapshot = with_machines.db.sql("SELECT * FROM contracts ORDER BY contract_id")
    second = with_machines.ingest(files).files[0]
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (2, 0, 0, 2)
    assert with_machines.db.sql("SELECT * FROM contracts ORDER BY contract_id") == snapshot
    with_machines.write("contracts.csv", "id,sn,kind,end\nC1,M1,maintenance,2027-12-01\nC2,M2,warranty,2027-01-01\n")
    third = with_machines.ingest(files).files[0]
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 1)
    assert with_machines.db.scalar("SELECT end_date FROM contracts WHERE contract_id = 'C1'") == date(2027, 12, 1)
    assert with_machines.db.scalar("SELECT type FROM contracts WHERE contract_id = 'C1'") == "maintenance"


def test_templates_constants_value_maps_and_derived_ids(with_machines: Exports) -> None:
    with_machines.write("maint.csv", "machineID,datetime,comp,kind\nM1,2024-01-05,comp2,PM02\nM1,2024-01-05,comp2,PM02\nM2,2024-01-06,,PM01\n")
    files = [
        {
            "path": "maint.csv",
            "entity": "service_record",
            "columns": {"serial": "machineID", "date": "datetime", "text": "Replaced component {comp}", "type": "kind"},
            "value_maps": {"type": {"PM01": "repair", "PM02": "replacement"}},
            "values": {"technician": "ERP import"},
        }
    ]
    report = with_machines.ingest(files)
    balanced(report)
    rows = with_machines.db.sql("SELECT record_id, serial, text, type, technician FROM service_records ORDER BY serial, record_id")
    assert [r[2:] for r in rows] == [
        ("Replaced component comp2", "replacement", "ERP import"),
        ("Replaced component comp2", "replacement", "ERP import"),
        ("Replaced component", "repair", "ERP import"),
    ]
    ids = [r[0] for r in rows]
    assert len(set(ids)) == 3 and all(i.startswith("SR-") for i in ids)
    again = with_machines.ingest(files).files[0]
    assert (again.inserted, again.unchanged) == (0, 3)


def test_contract_without_end_date_is_stored_as_a_data_gap(with_machines: Exports) -> None:
    with_machines.write("contracts.csv", "id,sn,kind,end\nC1,M1,maintenance,\nC2,M2,lease,2027-01-01\n")
    report = with_machines.ingest(
        [{"path": "contracts.csv", "entity": "contract", "columns": {"contract_id": "id", "serial": "sn", "type": "kind", "end_date": "end"}}]
    )
    f = report.files[0]
    assert f.data_gaps == {"end_date": 1}
    assert "'lease' is not one of" in f.rejections[0].reason


def test_age_years_needs_as_of_and_then_ages_with_the_reference_date(exports: Exports) -> None:
    exports.write("machines.csv", "machineID,model,age\n1,model3,18\n")
    files = [{"path": "machines.csv", "entity": "machine", "columns": {"serial": "machineID", "model": "model", "age_years": "age"}}]
    with pytest.raises(MappingError, match="as_of"):
        exports.ingest(files)
    exports.ingest(files, as_of="2015-01-01")
    assert exports.db.sql("SELECT age_years, age_as_of FROM machines") == [(18.0, date(2015, 1, 1))]
    assert exports.db.data_as_of() == date(2015, 1, 1)
