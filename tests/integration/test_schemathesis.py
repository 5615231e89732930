"""Schemathesis against the app's own OpenAPI document: generated valid and invalid requests never get a 5xx."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from sdi.api.routes import ROUTERS
from sdi.store import MachineFile
from tests.integration.api_base import fresh_home, make_people, settings_for

OPERATIONS = sorted({(method, re.sub(r":\w+}", "}", route.path)) for router in ROUTERS for route in router.routes
                     if isinstance(route, APIRoute) and route.include_in_schema for method in route.methods})
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 10}


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Any, dict[str, str]]]:
    from sdi.api.app import create_app

    home = fresh_home("schemathesis")
    s = settings_for(home, llm="template")
    db = MachineFile(s.db_path)
    people = make_people(db)
    app = create_app(s, db, queue_size=64)
    yield schemathesis.openapi.from_asgi("/openapi.json", app), people.tokens
    app.state.sdi.queue.stop()
    db.close()


def test_every_route_is_in_the_openapi_document(world: Any) -> None:
    schema, _ = world
    documented = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("who", ["admin", "technician"])
def test_no_server_errors(world: Any, method: str, path: str, who: str) -> None:
    schema, tokens = world
    operation = schema[path][method.lower()]
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    for mode, count in EXAMPLES.items():

        @settings(max_examples=count if who == "admin" else count // 2, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Unsatisfiable:  # nothing invalid can be sent (e.g. GET /health has no parameters)
            assert mode == GenerationMode.NEGATIVE
