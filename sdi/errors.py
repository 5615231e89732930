"""The one user-facing error type: a message that says what went wrong and how to fix it."""

from __future__ import annotations


class SdiError(Exception):
    """An error a user can act on; the CLI prints it and exits non-zero instead of a traceback."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class MappingError(SdiError):
    """The mapping file or a file it names cannot be used."""


class ConfigError(SdiError):
    """A setting has a value SDI refuses at start-up."""
