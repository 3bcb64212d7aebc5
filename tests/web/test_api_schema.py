"""Schemathesis against the API's own OpenAPI document: requests made from the schema, valid
and not, over a data folder with a few real items, find no server error, and every answer
matches what the schema says it is (status, content type, body).

The schema is loaded from the running app with an administrator's token, so every route
any module adds under /api/v1 is tried, with the widest permissions. Each operation is one
Hypothesis run of its own (schemathesis's pytest plugin builds its per-operation subtests in
a way this pytest does not take), bounded so the whole takes well under a minute a backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from svidok.home import Home

from .api_helpers import bearer, fill, token_for

EXAMPLES = 40  # per operation, valid and invalid requests together
# Some refusals depend on what the records hold, which no schema can say: a place the
# gazetteer does not know, an end date before the start. Those are 422s the schema lists,
# but this check wants every schema-valid request to succeed.
BEYOND_THE_SCHEMA: list[schemathesis.CheckFunction] = [positive_data_acceptance]


def test_the_api_answers_what_its_schema_allows_without_a_server_error(
        client: TestClient, home: Home, tmp_path: Path) -> None:
    ids = fill(home, tmp_path)
    # Real items as well as made-up numbers: a photo, a letter, a message without bytes.
    real = [ids["photo.jpg"], ids["lyst.txt"], ids["chat 1001 message 7"]]
    token = token_for(home, "admin")  # conftest's admin has a second factor
    # The token as the schema's bearer scheme, so the check that auth is enforced knows
    # it is real, and tries the requests again without it and with a wrong one.
    config = schemathesis.Config.from_dict(
        {"auth": {"openapi": {"bearer": {"bearer": token}}}})
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app,
                                            headers=bearer(token), config=config)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # an operation the schema cannot describe
        operations.append(result.ok())
    assert len(operations) >= 6

    for operation in operations:
        strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE)]
        if "{item_id}" in operation.path:
            strategies += [operation.as_strategy(GenerationMode.POSITIVE,
                                                 path_parameters={"item_id": n})
                           for n in real]
        cases = st.one_of(strategies)

        @given(case=cases)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(excluded_checks=BEYOND_THE_SCHEMA)

        check()
    # The uploads the run sent are ingested by the app's upload worker, which the app's
    # own shutdown stops (the client fixture's exit) before the data folder goes away.
