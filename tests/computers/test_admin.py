"""Admin pages of computers and auth infos, and a node's computer, comments
and logs on its page."""

from __future__ import annotations

import pytest

from comments.models import DbComment
from computers.models import DbAuthInfo, DbComputer
from users.models import UserProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, author):
    author.is_staff = author.is_superuser = True
    author.save()
    client.force_login(author)
    return client


def test_the_computer_list_counts_nodes(admin_client, graph):
    page = admin_client.get("/admin/computers/dbcomputer/").content.decode()
    assert "cluster.example.org" in page
    assert "core.slurm" in page
    assert '<td class="field-node_count">2</td>' in page


def test_a_computer_page_shows_metadata_pretty(admin_client, graph):
    computer = graph["computer"]
    page = admin_client.get(
        f"/admin/computers/dbcomputer/{computer.pk}/change/"
    ).content.decode()
    assert "<pre" in page and "&quot;workdir&quot;: &quot;/scratch&quot;" in page


def test_deleting_a_computer_in_use_is_refused_with_the_count(admin_client, graph):
    computer = graph["computer"]
    response = admin_client.post(
        f"/admin/computers/dbcomputer/{computer.pk}/delete/",
        {"post": "yes"},
        follow=True,
    )
    assert "used by 2 node(s)" in response.content.decode()
    assert DbComputer.objects.filter(pk=computer.pk).exists()


def test_auth_params_are_hidden_until_asked_and_for_staff_only(
    client, admin_client, graph, django_user_model
):
    info = DbAuthInfo.objects.get()
    page = admin_client.get(f"/admin/computers/dbauthinfo/{info.pk}/change/")
    assert "<details><summary>show (1 keys)</summary>" in page.content.decode()
    plain = django_user_model.objects.create(username="plain")
    client.force_login(plain)
    response = client.get(f"/admin/computers/dbauthinfo/{info.pk}/change/")
    assert response.status_code == 302
    assert b"secret" not in response.content


def test_a_node_page_shows_computer_comments_and_logs_newest_first(admin_client, graph):
    calc = graph["calc"]
    page = admin_client.get(f"/admin/nodes/dbnode/{calc.pk}/change/").content.decode()
    assert f"/admin/computers/dbcomputer/{graph['computer'].pk}/change/" in page
    assert "looks right" in page and "ada" in page
    records = page[page.index('id="dblogs-group"') :]
    # Newest first: the INFO record was logged last.
    assert records.index("detail") < records.index("failed") < records.index("slow")
    assert 'style="color: #ba2121">ERROR' in records


def test_a_comment_added_on_the_node_page_is_the_editors(admin_client, graph, author):
    calc = graph["calc"]
    existing = DbComment.objects.get()
    data = {
        "label": "",
        "description": "",
        "extras": "{}",
        "dbcomments-TOTAL_FORMS": "2",
        "dbcomments-INITIAL_FORMS": "1",
        "dbcomments-0-id": str(existing.pk),
        "dbcomments-0-dbnode": str(calc.pk),
        "dbcomments-0-content": "looks right, checked twice",
        "dbcomments-1-dbnode": str(calc.pk),
        "dbcomments-1-content": "added here",
        "dblogs-TOTAL_FORMS": "3",
        "dblogs-INITIAL_FORMS": "3",
    }
    response = admin_client.post(f"/admin/nodes/dbnode/{calc.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert set(DbComment.objects.values_list("content", "user")) == {
        ("looks right, checked twice", author.pk),
        ("added here", author.pk),
    }


def test_a_users_page_shows_and_keeps_the_institution(admin_client, author):
    UserProfile.objects.create(user=author, institution="Lab X")
    page = admin_client.get(f"/admin/auth/user/{author.pk}/change/").content.decode()
    assert 'value="Lab X"' in page
