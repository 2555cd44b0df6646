"""No request, however malformed, gets a 5xx: schemathesis generates valid and invalid
requests for every operation of the OpenAPI document the app serves and sends them,
with a valid token, to the WSGI application in this process (bounded, derandomised).

The operations are driven with plain Hypothesis `@given` over each operation's strategy
rather than schemathesis' lazy pytest plugin, which does not run under pytest 9."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from jiuzhu.accounts.models import ApiToken
from jiuzhu.wsgi import application as wsgi_application
from tests import factories as f
from tests.api.support import decided_application, staff

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def in_process_app(settings: Any) -> Iterator[None]:
    """The app runs inside the test's transaction, so the per-request connection clean-up
    is switched off, as Django's own test client does — otherwise the end of the first
    request would close the connection the test's data lives in (PostgreSQL)."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_request_gets_a_server_error(in_process_app: None) -> None:
    people = staff()
    application, decision = decided_application(people)
    f.poor_family()
    known = {"household_id": application.household_id, "application_id": application.pk,
             "decision_id": decision.pk,
             "person_id": application.household.memberships.get(relation="head").person_id}
    token = ApiToken.issue(people["officer"], "schemathesis")[1]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_application)
    headers = {"Authorization": f"Bearer {token}"}
    failures: dict[str, BaseException] = {}
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 15, "every operation of the document loads"

    for operation in operations:
        # Random ids mostly miss, so a third of the cases aim at objects that exist.
        existing = {name: pk for name, pk in known.items() if f"{{{name}}}" in operation.path}
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.POSITIVE, path_parameters=existing),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=cases)
        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures[operation.label] = exc
    assert not failures, "\n\n".join(f"{label}: {exc}" for label, exc in failures.items())
