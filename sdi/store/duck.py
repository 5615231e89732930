"""The DuckDB wrapper: the only module that imports duckdb; opens connections and turns errors a user can act on into SdiError."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb

from sdi.errors import SdiError

Connection = duckdb.DuckDBPyConnection

# Errors caused by the machine's state (disk, memory, permissions) rather than by SDI's SQL or a request's values.
# The rest pass unchanged: the API maps them by type (conflict 409, bad value 400, bug 500).
_ACTIONABLE: tuple[tuple[type[Exception], str], ...] = (
    (duckdb.OutOfMemoryException, "raise SDI_DB_MEMORY_LIMIT, or lower SDI_DB_THREADS"),
    (duckdb.IOException, "check free disk space and the permissions of SDI_HOME"),
    (duckdb.PermissionException, "check the permissions of SDI_HOME"),
)


def sql_literal(value: object) -> str:
    """A SQL string literal of the value's text (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def connect(path: Path, config: dict[str, Any]) -> Connection:
    """Open (or create) a DuckDB database file."""
    try:
        return duckdb.connect(str(path), config=config)
    except duckdb.IOException as exc:
        raise SdiError(
            f"cannot open the machine file {path}: {exc}",
            "another SDI process may hold it open; stop it or point SDI_HOME elsewhere",
        ) from exc


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise DuckDB errors a user can act on as SdiError (one place for every store call)."""
    try:
        yield
    except duckdb.Error as exc:
        if "read-only mode" in str(exc):
            raise SdiError("this command writes to the machine file, and it is open read-only here (a snapshot, "
                           "because `sdi serve` holds the file)", "stop the server for this command, or do it in "
                           "the app (Admin)") from exc
        for kind, hint in _ACTIONABLE:
            if isinstance(exc, kind):
                raise SdiError(f"the machine file could not be used: {str(exc).splitlines()[0]}", hint) from exc
        raise
