"""The schema as SDI created it before migrations existed; IF NOT EXISTS makes it a no-op on such a file."""

from __future__ import annotations

from sdi.models import ENTITIES, ENTITY_ORDER
from sdi.store.entities import create_table_sql
from sdi.store.migrations.base import Db

NAME = "initial"

IMPORT_LOG = """
CREATE SEQUENCE IF NOT EXISTS import_seq START 1;
CREATE TABLE IF NOT EXISTS imports (
    import_id BIGINT PRIMARY KEY, mapping VARCHAR, file VARCHAR, entity VARCHAR, sha256 VARCHAR,
    started_at TIMESTAMP, rows_read BIGINT, rows_stored BIGINT, rows_rejected BIGINT,
    inserted BIGINT, updated BIGINT, unchanged BIGINT);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS rejections (
    import_id BIGINT, file VARCHAR, line BIGINT, location VARCHAR, scope VARCHAR, reason VARCHAR, raw VARCHAR);
"""

USERS = """
CREATE TABLE IF NOT EXISTS users (
    name VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, territory VARCHAR, token_sha256 VARCHAR NOT NULL,
    created_at TIMESTAMP, created_by VARCHAR);
CREATE TABLE IF NOT EXISTS user_serials (name VARCHAR, serial VARCHAR, PRIMARY KEY (name, serial));
"""

OPPORTUNITIES = """
CREATE TABLE IF NOT EXISTS opportunities (
    id VARCHAR PRIMARY KEY, serial VARCHAR, campaign VARCHAR, status VARCHAR, trigger_state VARCHAR,
    priority DOUBLE, territory VARCHAR, owner VARCHAR, owner_role VARCHAR, channel VARCHAR,
    first_seen DATE, last_seen DATE, resolved_on DATE, data JSON)
"""

LEADS = """
CREATE SEQUENCE IF NOT EXISTS lead_seq START 1;
CREATE TABLE IF NOT EXISTS leads (
    id VARCHAR PRIMARY KEY, serial VARCHAR, observed VARCHAR, customer_wants VARCHAR, offer_id VARCHAR,
    photo VARCHAR, reporter VARCHAR, reported_at TIMESTAMP, opportunity_id VARCHAR, owner VARCHAR, owner_role VARCHAR,
    first_action_at TIMESTAMP, first_action_by VARCHAR, first_action VARCHAR);
"""

OUTCOMES = """
CREATE SEQUENCE IF NOT EXISTS outcome_seq START 1;
CREATE TABLE IF NOT EXISTS outcomes (
    id BIGINT PRIMARY KEY, opportunity_id VARCHAR, result VARCHAR, value DOUBLE, currency VARCHAR,
    discount_pct DOUBLE, partner VARCHAR, reason VARCHAR, recorded_by VARCHAR, recorded_at TIMESTAMP);
"""

CONVERSATIONS = """
CREATE TABLE IF NOT EXISTS conversations (
    id VARCHAR PRIMARY KEY, opportunity_id VARCHAR, created_at TIMESTAMP, turns JSON)
"""

TRIGGER_RUNS = """
CREATE TABLE IF NOT EXISTS trigger_runs (
    as_of DATE, rules_version VARCHAR, rules_sha256 VARCHAR, machines BIGINT, counts JSON, stored BOOLEAN)
"""


def apply(db: Db) -> None:
    """Create every table and sequence SDI had before schema versions."""
    for name in ENTITY_ORDER:
        db.execute(create_table_sql(ENTITIES[name]))
    for ddl in (IMPORT_LOG, USERS, OPPORTUNITIES, LEADS, OUTCOMES, CONVERSATIONS, TRIGGER_RUNS):
        db.execute(ddl)
