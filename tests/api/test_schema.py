"""A property-based run of the API against its own OpenAPI schema: no server error, and no
response that breaks the schema, whatever the input.

Schemathesis' pytest plugin does not run on pytest 9, so its Hypothesis strategies are
driven directly: one test per operation, each with its generated cases and the default checks.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from chatproject.wsgi import application
from tests.factories import RoomFactory, UserFactory, token_for

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def auth_headers(transactional_db):
    user = UserFactory()
    RoomFactory(slug="lobby", created_by=user)
    return {"Authorization": f"Bearer {token_for(user)}"}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_the_api_keeps_to_its_schema(operation, auth_headers):
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        # Every default check but positive_data_acceptance: business rules (a taken username,
        # a wrong password, a rate limit) rightly refuse some input the schema allows.
        case.call_and_validate(headers=auth_headers, excluded_checks=[positive_data_acceptance])

    check()


def test_every_endpoint_is_in_the_schema():
    labels = {operation.label for operation in OPERATIONS}
    assert {
        "GET /api/rooms/{slug}/messages/",
        "POST /api/rooms/{slug}/messages/",
        "DELETE /api/rooms/{slug}/messages/{seq}/",
        "POST /api/rooms/{slug}/members/{username}/ban/",
        "POST /api/auth/token/",
    } <= labels


def test_the_schema_and_its_docs_page_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"swagger-ui" in page.content
