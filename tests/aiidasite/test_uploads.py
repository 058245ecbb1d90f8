"""Uploads: every part has a name, sizes have limits, every refusal is JSON."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from nodes import types
from nodes.models import DbNode

pytestmark = pytest.mark.django_db

BOUNDARY = "xXxBOUNDARYxXx"


@pytest.fixture
def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def multipart(*parts: tuple[bytes, bytes]) -> bytes:
    """A body of ``(content-disposition parameters, content)`` parts."""
    body = b""
    for disposition, content in parts:
        body += (
            f"--{BOUNDARY}\r\n".encode()
            + b"Content-Disposition: form-data; "
            + disposition
            + b"\r\n\r\n"
            + content
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


def post(client: APIClient, url: str, body: bytes):
    return client.generic(
        "POST", url, body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


NODE_TYPE = (b'name="node_type"', types.FOLDER.encode())


@pytest.mark.parametrize(
    ("disposition", "message"),
    [
        (b'name=""; filename="a.txt"', "empty field name"),
        (b'name="  "; filename="a.txt"', "empty field name"),
        (b'filename="a.txt"', "empty field name"),
        (b'name="caf\xe9.txt"; filename="a.txt"', "not UTF-8"),
        (b'name="\xff\xfe"', "not UTF-8"),
    ],
)
def test_a_part_without_a_usable_name_refuses_the_upload(client, disposition, message):
    body = multipart(NODE_TYPE, (disposition, b"content"))

    response = post(client, "/api/v1/nodes/", body)

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not DbNode.objects.exists()


@pytest.mark.parametrize(
    "filename", [b"..", b".", b"/", b"dir/", b"a\\..", b"a\x00b", b"&#46;&#46;"]
)
def test_a_file_part_whose_file_name_names_no_file_refuses_the_upload(client, filename):
    body = multipart(NODE_TYPE, (b'name="a.txt"; filename="' + filename + b'"', b"x"))

    response = post(client, "/api/v1/nodes/", body)

    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert "the file name" in detail and "of the part 'a.txt'" in detail
    assert not DbNode.objects.exists()


def test_a_part_without_content_disposition_refuses_the_upload(client):
    body = (
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
    ).encode()

    response = post(client, "/api/v1/nodes/", body)

    assert response.status_code == 400
    assert "no field name" in response.json()["detail"]


def test_well_named_parts_are_stored(client):
    body = multipart(
        NODE_TYPE, ('name="café.txt"; filename="a.txt"'.encode(), b"content")
    )

    response = post(client, "/api/v1/nodes/", body)

    assert response.status_code == 201, response.content
    files = client.get(f"/api/v1/nodes/{response.json()['id']}/files/").json()
    assert [entry["path"] for entry in files] == ["café.txt"]


def test_an_archive_upload_with_an_unnamed_part_is_refused(staff_client):
    body = multipart((b'name=""; filename="x.aiida"', b"PK"))

    response = post(staff_client, "/api/v1/archives/", body)

    assert response.status_code == 400
    assert "empty field name" in response.json()["detail"]


def test_a_file_over_the_file_limit_is_a_json_413(client, settings):
    settings.AIIDASITE_UPLOAD_MAX_FILE_BYTES = 1000
    response = client.post(
        "/api/v1/nodes/",
        {
            "node_type": types.FOLDER,
            "small.txt": SimpleUploadedFile("s", b"x" * 1000),
            "big.txt": SimpleUploadedFile("b", b"x" * 1001),
        },
        format="multipart",
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": "the file 'big.txt' is larger than this site accepts "
        "(1000 bytes at most)"
    }
    assert not DbNode.objects.exists()


def test_a_body_over_the_request_limit_is_a_json_413(client, settings):
    settings.AIIDASITE_UPLOAD_MAX_REQUEST_BYTES = 2 * 1024 * 1024
    body = multipart(NODE_TYPE, (b'name="a"; filename="a"', b"x" * 3 * 1024 * 1024))

    response = post(client, "/api/v1/nodes/", body)

    assert response.status_code == 413
    assert response.json() == {
        "detail": "the request body is larger than this site accepts (2 MiB at most)"
    }
    assert not DbNode.objects.exists()


def test_a_json_body_over_the_request_limit_is_a_json_413(client, settings):
    settings.AIIDASITE_UPLOAD_MAX_REQUEST_BYTES = 100

    response = client.post(
        "/api/v1/nodes/",
        {"node_type": types.DICT, "attributes": {"x": "y" * 200}},
        format="json",
    )

    assert response.status_code == 413
    assert "request body is larger" in response.json()["detail"]


def test_form_fields_past_djangos_memory_limit_are_a_json_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post(
        "/api/v1/nodes/",
        {"node_type": types.DICT, "label": "x" * 2000},
        format="multipart",
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than this site accepts."
    }


def test_too_many_fields_is_a_json_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"field{i}": "x" for i in range(10)}

    response = client.post(
        "/api/v1/nodes/", {"node_type": types.DICT, **fields}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request has more fields or files than this site accepts."
    }


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/nodes/", "/api/schema/"])
def test_a_bad_host_is_a_json_400(api_client, path):
    response = api_client.get(path, HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The Host header names no host this site serves."
    }


def test_a_bad_host_outside_the_api_keeps_djangos_page(client):
    response = client.get("/admin/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
