"""What a migration is and the part of the store it may use (a protocol, so migrations never import the store)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence


class Db(Protocol):
    """The store methods a migration runs on."""

    path: Path

    def execute(self, query: str, params: Sequence[Any] | None = None) -> None: ...  # noqa: D102

    def scalar(self, query: str, params: Sequence[Any] | None = None) -> Any: ...  # noqa: D102

    def transaction(self) -> AbstractContextManager[Any]: ...  # noqa: D102


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    apply: Callable[[Db], None]
