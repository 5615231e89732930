"""Versioned prompt templates (package data): `<name>.v<version>.md`, shared system text in `_system.v1.md`."""
