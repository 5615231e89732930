"""The mapping file: which export file feeds which entity, through which columns, templates and constants."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sdi.errors import MappingError
from sdi.models import ENTITIES, ENTITY_ORDER, Need

TEMPLATE_REF = re.compile(r"\{([^{}]+)\}")
DEFAULT_NA = ("", "NA", "N/A", "n/a", "NULL", "null", "None", "#N/A", "nan", "NaN", "-")


class ColumnRef(BaseModel):
    """A canonical field's source: one column, or a template mixing columns and text."""

    template: str

    @property
    def columns(self) -> list[str]:
        """Source columns this reference reads."""
        refs = TEMPLATE_REF.findall(self.template)
        return refs if refs else [self.template]

    @property
    def is_template(self) -> bool:
        """True when the text has {column} placeholders."""
        return bool(TEMPLATE_REF.search(self.template))


class FileMapping(BaseModel):
    """One file of the mapping."""

    model_config = ConfigDict(extra="forbid")

    path: str
    entity: str
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    metrics: list[str] | dict[str, str] | None = None
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    date_format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    na_values: list[str] | None = None

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, value: str) -> str:
        if value not in ENTITIES:
            raise ValueError(f"unknown entity {value!r}; entities are: {', '.join(ENTITY_ORDER)}")
        return value

    @model_validator(mode="after")
    def _fields_fit_entity(self) -> "FileMapping":
        spec = ENTITIES[self.entity]
        for group, names in (("columns", self.columns), ("values", self.values), ("value_maps", self.value_maps)):
            unknown = [n for n in names if n not in spec.field_names]
            if unknown:
                raise ValueError(
                    f"{group}: unknown field(s) {', '.join(unknown)} for entity {self.entity}; "
                    f"its fields are: {', '.join(spec.field_names)}"
                )
        both = set(self.columns) & set(self.values)
        if both:
            raise ValueError(f"field(s) {', '.join(sorted(both))} given both in columns and values")
        provided = set(self.columns) | set(self.values)
        if self.entity == "telemetry" and self.metrics:
            provided |= {"metric", "value"}
        if self.metrics and self.entity != "telemetry":
            raise ValueError("metrics: only telemetry files have metric columns")
        derivable = {spec.id_field} if spec.id_field else set()
        missing = [
            f.name for f in spec.fields if f.need is Need.REQUIRED and f.name not in provided | derivable
        ]
        if missing:
            raise ValueError(f"required field(s) {', '.join(missing)} of {self.entity} not mapped")
        if self.entity == "parts_order" and not provided & {"serial", "customer_id"}:
            raise ValueError("a parts_order needs serial or customer_id mapped")
        return self

    def metric_columns(self) -> dict[str, str]:
        """Metric name -> source column for wide telemetry."""
        if not self.metrics:
            return {}
        if isinstance(self.metrics, dict):
            return dict(self.metrics)
        return {name.strip().lower().replace(" ", "_"): name for name in self.metrics}

    def refs(self) -> dict[str, ColumnRef]:
        """Canonical field -> its source reference."""
        return {name: ColumnRef(template=src) for name, src in self.columns.items()}

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads."""
        needed = [c for ref in self.refs().values() for c in ref.columns]
        return needed + list(self.metric_columns().values())


class Mapping(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid")

    as_of: date | None = None
    files: list[FileMapping]
    base_dir: Path = Path(".")

    def ordered(self) -> list[tuple[int, FileMapping]]:
        """(position, file) in dependency order: machines before the records that name them."""
        return sorted(enumerate(self.files), key=lambda item: (ENTITY_ORDER.index(item[1].entity), item[0]))

    def resolve(self, file: FileMapping) -> Path:
        """Absolute path of a mapped file."""
        path = Path(file.path)
        return path if path.is_absolute() else self.base_dir / path


def _describe(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "files" and isinstance(loc[1], int):
        files = raw.get("files") or []
        name = files[loc[1]].get("path", "?") if loc[1] < len(files) and isinstance(files[loc[1]], dict) else "?"
        rest = ".".join(str(p) for p in loc[2:])
        return f"files[{loc[1]}] ({name})" + (f" {rest}" if rest else "")
    return ".".join(str(p) for p in loc) or "mapping"


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; every problem is a MappingError that names the place."""
    if not path.is_file():
        raise MappingError(f"mapping file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = getattr(exc, "context_mark", None)
        if context is not None and mark is not None and context.line != mark.line:
            where += f" (in what starts at line {context.line + 1})"
        raise MappingError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: not a text file ({exc.reason})") from exc
    if not isinstance(raw, dict) or "files" not in raw:
        raise MappingError(f"{path}: a mapping needs a top-level `files:` list", "see DESIGN.md, 'Mapping file'")
    try:
        mapping = Mapping(**raw, base_dir=path.resolve().parent)
    except ValidationError as exc:
        problems = [f"{_describe(tuple(e['loc']), raw)}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise MappingError(f"{path}: invalid mapping:\n  - " + "\n  - ".join(problems)) from exc
    if not mapping.files:
        raise MappingError(f"{path}: `files:` is empty — nothing to import")
    return mapping
