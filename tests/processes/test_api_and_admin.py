"""The node API filters by process state and exit status; the admin's
process list shows label, state and exit status, failed ones marked."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def pks(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_api_filters_nodes_by_process_state_and_exit_status(api_client, processes):
    url = "/api/v1/nodes/"
    assert pks(api_client.get(url, {"process_state": "running"})) == {
        processes["running"].pk
    }
    assert pks(api_client.get(url, {"exit_status": 310})) == {processes["failed"].pk}
    finished_ok = pks(
        api_client.get(url, {"process_state": "finished", "exit_status": 0})
    )
    assert finished_ok == {
        processes["ok"].pk,
        processes["old"].pk,
        processes["workflow"].pk,
    }
    assert api_client.get(url, {"exit_status": "x"}).status_code == 400
    assert api_client.get(url, {"process_state": "sleeping"}).status_code == 400


@pytest.fixture
def admin_client(django_user_model) -> Client:
    staff = django_user_model.objects.create_superuser(username="root", password="pw")
    client = Client()
    client.force_login(staff)
    return client


def test_admin_process_list_marks_failed_and_filters(admin_client, processes):
    url = "/admin/processes/processnode/"
    html = admin_client.get(url).content.decode()
    assert "PwBandsWorkChain" in html
    assert html.count('class="process-state failed"') == 2  # 310 and excepted
    assert f'href="/admin/nodes/dbnode/{processes["failed"].pk}/change/"' in html
    failed = admin_client.get(url, {"failed": "yes"}).content.decode()
    assert failed.count('class="process-state') == 1
    assert ">310<" in failed
    running = admin_client.get(url, {"state": "running"}).content.decode()
    assert running.count('class="process-state') == 1
    assert "Running" in running
