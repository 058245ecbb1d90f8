"""The production command of README: collectstatic, then gunicorn with DEBUG off."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.settingsapp.conftest import BASE_DIR, Scratch, scratch  # noqa: F401

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(scratch: Scratch) -> Iterator[str]:  # noqa: F811
    env = {
        **scratch.env(),
        "DEBUG": "false",
        "STATIC_ROOT": str(scratch.data_dir / "static"),
    }
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "aiidasite.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_gunicorn_serves_the_api(server):
    status, _, body = fetch(f"{server}/api/v1/")

    assert status == 200
    assert json.loads(body)["nodes"].endswith("/api/v1/nodes/")


def test_static_files_are_served_without_debug(server):
    status, headers, body = fetch(f"{server}/static/admin/css/base.css")

    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert b"body" in body


def test_errors_show_no_debug_page(server):
    status, _, body = fetch(f"{server}/api/v1/no-such-route/")

    assert status == 404
    assert json.loads(body) == {"detail": "Not found."}


def test_a_bad_host_is_a_json_400(server):
    status, headers, body = fetch(f"{server}/api/v1/nodes/", Host="evil.example")

    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "detail": "The Host header names no host this site serves."
    }
