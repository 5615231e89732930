"""A repeated `sdi demo` does not import the same demo files again; a changed or newer file is imported."""

from __future__ import annotations

from pathlib import Path

from connectors.ingest import ingest
from sdi.demo import generator as demo
from sdi.demo.run import already_imported
from sdi.store import MachineFile


def test_files_whose_last_import_has_the_same_sha256_are_not_imported_again(tmp_path: Path, db: MachineFile) -> None:
    out = tmp_path / "demo"
    demo.generate(out, machines=20, seed=3)
    mapping = out / "mapping.yaml"
    assert not already_imported(db, mapping)  # a fresh machine file
    ingest(db, mapping)
    assert already_imported(db, mapping)
    offers = out / "service_offers.json"
    offers.write_text(offers.read_text().replace("Extended warranty", "Extended warranty plus"))
    assert not already_imported(db, mapping)  # one file changed: the import runs
    ingest(db, mapping)
    assert already_imported(db, mapping)
