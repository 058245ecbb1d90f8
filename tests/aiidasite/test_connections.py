"""A server process keeps its database connection from one request to the next."""

from __future__ import annotations

import pytest

from tests.settingsapp.conftest import Scratch, scratch  # noqa: F401

pytestmark = pytest.mark.slow

# Two API requests through the WSGI application, as gunicorn sends them
# (request_started and request_finished included): is the driver connection
# of the second the one of the first?
TWO_REQUESTS = """
import io, sys
from django.core.wsgi import get_wsgi_application
from django.db import connection
application = get_wsgi_application()

def get(path):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
        "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    statuses = []
    response = application(environ, lambda status, headers: statuses.append(status))
    b"".join(response)
    response.close()
    assert statuses == ["200 OK"], statuses

get("/api/v1/statistics/")
first = connection.connection
get("/api/v1/nodes/")
print("same" if first is not None and connection.connection is first else "new")
"""


def served_twice(scratch: Scratch) -> str:  # noqa: F811
    result = scratch.manage("shell", "-c", TWO_REQUESTS)
    assert result.returncode == 0, result.stderr
    # The last line: the shell may first say what it imported.
    return result.stdout.strip().splitlines()[-1]


def test_requests_reuse_the_connection_by_default(scratch, monkeypatch):  # noqa: F811
    monkeypatch.delenv("CONN_MAX_AGE", raising=False)
    assert served_twice(scratch) == "same"


def test_conn_max_age_zero_gives_each_request_its_own(scratch, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CONN_MAX_AGE", "0")
    assert served_twice(scratch) == "new"
