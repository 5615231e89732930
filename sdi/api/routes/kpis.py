"""Kpis: thin router (issue 13); the logic lives in sdi/loop."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/kpis", tags=["kpis"])
