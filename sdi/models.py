"""Domain types shared by every stage: the machine-file entities and their fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

FieldType = Literal["text", "date", "timestamp", "int", "float", "bool", "list"]


class Need(str, Enum):
    """How much a row needs a field."""

    REQUIRED = "required"  # row rejected without it
    EXPECTED = "expected"  # row stored, missing value reported as a data gap
    OPTIONAL = "optional"


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field of an entity."""

    name: str
    type: FieldType = "text"
    need: Need = Need.OPTIONAL
    choices: tuple[str, ...] | None = None
    lower: bool = False  # normalise to lower case (codes, kinds, statuses)

    @property
    def sql_type(self) -> str:
        """DuckDB column type."""
        return {
            "text": "VARCHAR",
            "date": "DATE",
            "timestamp": "TIMESTAMP",
            "int": "BIGINT",
            "float": "DOUBLE",
            "bool": "BOOLEAN",
            "list": "VARCHAR[]",
        }[self.type]


@dataclass(frozen=True)
class EntitySpec:
    """A machine-file entity: its table, fields, natural key and how its source id is formed."""

    name: str
    table: str
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    id_field: str | None = None  # an optional id column; derived from content when the export has none
    id_prefix: str = ""
    refs_machine: Literal["required", "optional", "none"] = "none"
    extra_columns: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def field(self, name: str) -> FieldSpec:
        """The field called name."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Canonical field names in order."""
        return tuple(spec.name for spec in self.fields)


R, E, O = Need.REQUIRED, Need.EXPECTED, Need.OPTIONAL

CONTRACT_TYPES = ("maintenance", "warranty", "sla", "service", "extended_warranty", "other")
EVENT_KINDS = ("error", "alarm", "failure", "warning", "info")
SERVICE_TYPES = ("repair", "maintenance", "inspection", "replacement", "installation", "other")

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec(
            "model",
            "models",
            (
                FieldSpec("model", need=R),
                FieldSpec("maintenance_interval_hours", "float", E),
                FieldSpec("end_of_life", "date"),
                FieldSpec("successor"),
                FieldSpec("parts_discontinued", "bool"),
            ),
            key=("model",),
        ),
        EntitySpec(
            "customer",
            "customers",
            (
                FieldSpec("customer_id", need=R),
                FieldSpec("name", need=E),
                FieldSpec("territory", need=E),
                FieldSpec("account_manager"),
                FieldSpec("contact_name"),
                FieldSpec("contact_email"),
                FieldSpec("contact_phone"),
            ),
            key=("customer_id",),
        ),
        EntitySpec(
            "machine",
            "machines",
            (
                FieldSpec("serial", need=R),
                FieldSpec("model", need=R),
                FieldSpec("customer_id", need=E),
                FieldSpec("site", need=E),
                FieldSpec("install_date", "date", E),
                FieldSpec("year_of_manufacture", "int"),
                FieldSpec("age_years", "float"),
                FieldSpec("lifecycle_status", lower=True),
                FieldSpec("operating_hours", "float"),
            ),
            key=("serial",),
            extra_columns=(("age_as_of", "DATE"),),
        ),
        EntitySpec(
            "contract",
            "contracts",
            (
                FieldSpec("contract_id", need=R),
                FieldSpec("serial", need=R),
                FieldSpec("type", need=R, choices=CONTRACT_TYPES, lower=True),
                FieldSpec("start_date", "date"),
                FieldSpec("end_date", "date", E),
                FieldSpec("value", "float"),
                FieldSpec("currency"),
                FieldSpec("status", lower=True),
            ),
            key=("contract_id",),
            refs_machine="required",
        ),
        EntitySpec(
            "telemetry",
            "telemetry",
            (
                FieldSpec("serial", need=R),
                FieldSpec("timestamp", "timestamp", R),
                FieldSpec("metric", need=R, lower=True),
                FieldSpec("value", "float", R),
            ),
            key=("serial", "metric", "timestamp"),
            refs_machine="required",
        ),
        EntitySpec(
            "event",
            "events",
            (
                FieldSpec("event_id"),
                FieldSpec("serial", need=R),
                FieldSpec("timestamp", "timestamp", R),
                FieldSpec("kind", need=R, choices=EVENT_KINDS, lower=True),
                FieldSpec("code", need=R),
                FieldSpec("severity", lower=True),
                FieldSpec("description"),
            ),
            key=("event_id",),
            id_field="event_id",
            id_prefix="EV-",
            refs_machine="required",
        ),
        EntitySpec(
            "service_record",
            "service_records",
            (
                FieldSpec("record_id"),
                FieldSpec("serial", need=R),
                FieldSpec("date", "date", R),
                FieldSpec("type", choices=SERVICE_TYPES, lower=True),
                FieldSpec("text", need=R),
                FieldSpec("technician"),
                FieldSpec("parts"),
                FieldSpec("cost", "float"),
            ),
            key=("record_id",),
            id_field="record_id",
            id_prefix="SR-",
            refs_machine="required",
        ),
        EntitySpec(
            "parts_order",
            "parts_orders",
            (
                FieldSpec("order_id"),
                FieldSpec("serial"),
                FieldSpec("customer_id"),
                FieldSpec("date", "date", R),
                FieldSpec("part_number"),
                FieldSpec("quantity", "float"),
                FieldSpec("value", "float"),
            ),
            key=("order_id",),
            id_field="order_id",
            id_prefix="PO-",
            refs_machine="optional",
        ),
        EntitySpec(
            "service_offer",
            "service_offers",
            (
                FieldSpec("offer_id", need=R),
                FieldSpec("name", need=R),
                FieldSpec("price", "float", R),
                FieldSpec("currency"),
                FieldSpec("models", "list"),
                FieldSpec("triggers", "list"),
                FieldSpec("duration"),
            ),
            key=("offer_id",),
        ),
    )
}

# Import order: referenced entities first, whatever order the mapping lists them in.
ENTITY_ORDER: tuple[str, ...] = (
    "model",
    "customer",
    "machine",
    "contract",
    "telemetry",
    "event",
    "service_record",
    "parts_order",
    "service_offer",
)


def source_id_sql(spec: EntitySpec, alias: str = "") -> str:
    """SQL expression for a row's stable source id, e.g. 'contract:C-1042'."""
    p = f"{alias}." if alias else ""
    if spec.name == "telemetry":
        return (
            f"'telemetry:' || {p}serial || '/' || {p}metric || '@' || "
            f"strftime({p}timestamp, '%Y-%m-%dT%H:%M:%S')"
        )
    return f"'{spec.name}:' || " + " || '/' || ".join(f"{p}{k}" for k in spec.key)
