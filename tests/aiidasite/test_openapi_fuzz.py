"""The API answers as its OpenAPI schema says, under schemathesis (bounded).

Every operation of ``/api/schema/`` gets a few generated requests against a
live server, anonymous and as staff; each answer must be no 5xx, carry a
documented status and content type, and match the documented body.
"""

from __future__ import annotations

import base64
import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Few examples per operation: the run stays within a minute or two.
EXAMPLES = 4


def site_schema() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(site_schema())
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])


@pytest.fixture
def staff_basic(django_user_model) -> dict[str, str]:
    django_user_model.objects.create_user("fuzz", password="fuzz-pw", is_staff=True)
    token = base64.b64encode(b"fuzz:fuzz-pw").decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_answers_match_the_schema(case, live_server, staff_basic):
    for headers in ({}, staff_basic):
        response = case.call(base_url=live_server.url, headers=headers)
        case.validate_response(response, checks=CHECKS)
