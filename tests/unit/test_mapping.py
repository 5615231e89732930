"""Mapping files: bad ones are refused with the place and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.mapping import load_mapping
from sdi.errors import MappingError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="line 3"):
        load_mapping(write(tmp_path, "files:\n  - path: a.csv\n    entity: [machine\n"))


def test_unknown_entity_and_field_are_named(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as err:
        load_mapping(write(tmp_path, "files:\n  - path: a.csv\n    entity: robot\n  - path: b.csv\n    entity: machine\n    columns: {serial: s, model: m, colour: c}\n"))
    text = str(err.value)
    assert "files[0] (a.csv)" in text and "unknown entity 'robot'" in text
    assert "files[1] (b.csv)" in text and "colour" in text


def test_required_fields_must_be_mapped(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="required field.*model"):
        load_mapping(write(tmp_path, "files:\n  - path: a.csv\n    entity: machine\n    columns: {serial: s}\n"))


def test_missing_mapping_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "nope.yaml")
    with pytest.raises(MappingError, match="files"):
        load_mapping(write(tmp_path, "as_of: 2020-01-01\n"))


def test_dependency_order_puts_machines_first(tmp_path: Path) -> None:
    mapping = load_mapping(
        write(
            tmp_path,
            "files:\n  - {path: r.csv, entity: service_record, columns: {serial: s, date: d, text: t}}\n"
            "  - {path: m.csv, entity: machine, columns: {serial: s, model: m}}\n",
        )
    )
    assert [f.entity for _, f in mapping.ordered()] == ["machine", "service_record"]
