"""The store: the only owner of the machine file (DuckDB connection, transactions, schema migrations)."""

from sdi.store.entities import PROVENANCE, stored_columns, stored_table
from sdi.store.machine_file import LazyCursor, MachineFile, UpsertCounts
from sdi.store.migrations import SCHEMA_VERSION

__all__ = ["PROVENANCE", "SCHEMA_VERSION", "LazyCursor", "MachineFile", "UpsertCounts", "stored_columns",
           "stored_table"]
