"""/api/v1/nodes/{id}/comments/: read by all, written by the logged-in,
changed by the author or staff."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from comments.models import DbComment

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def url(graph, suffix="") -> str:
    return f"/api/v1/nodes/{graph['calc'].pk}/comments/{suffix}"


def test_anyone_reads_a_nodes_comments_with_their_author(api_client, graph):
    response = api_client.get(url(graph))
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert (row["user"], row["content"]) == ("ada", "looks right")


def test_a_logged_in_user_adds_a_comment(client_of, graph, django_user_model):
    bob = django_user_model.objects.create(username="bob")
    response = client_of(bob).post(url(graph), {"content": "me too"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["user"] == "bob"
    assert DbComment.objects.get(pk=response.json()["id"]).dbnode == graph["calc"]


def test_anonymous_users_cannot_comment(api_client, graph):
    response = api_client.post(url(graph), {"content": "hi"}, format="json")
    assert response.status_code == 403
    assert DbComment.objects.count() == 1


@pytest.mark.parametrize("content", ["", "   ", None, "a\x00b"])
def test_an_empty_or_bad_comment_is_refused(client_of, graph, content):
    response = client_of(graph["calc"].user).post(
        url(graph), {"content": content}, format="json"
    )
    assert response.status_code == 400
    assert "detail" in response.json() or "content" in response.json()
    assert DbComment.objects.count() == 1


def test_a_comment_on_a_missing_node_is_404(client_of, graph):
    response = client_of(graph["calc"].user).post(
        "/api/v1/nodes/999999/comments/", {"content": "hi"}, format="json"
    )
    assert response.status_code == 404
    assert DbComment.objects.count() == 1


def test_the_author_edits_and_deletes(client_of, graph):
    comment = DbComment.objects.get()
    client = client_of(comment.user)
    response = client.patch(url(graph, f"{comment.pk}/"), {"content": "fixed"})
    assert response.status_code == 200, response.content
    comment.refresh_from_db()
    assert comment.content == "fixed"
    assert comment.mtime > comment.ctime
    assert client.delete(url(graph, f"{comment.pk}/")).status_code == 204
    assert not DbComment.objects.exists()


def test_others_cannot_change_a_comment_but_staff_can(
    client_of, graph, django_user_model
):
    comment = DbComment.objects.get()
    bob = django_user_model.objects.create(username="bob")
    response = client_of(bob).patch(url(graph, f"{comment.pk}/"), {"content": "x"})
    assert response.status_code == 403
    assert client_of(bob).delete(url(graph, f"{comment.pk}/")).status_code == 403
    staff = django_user_model.objects.create(username="boss", is_staff=True)
    assert client_of(staff).delete(url(graph, f"{comment.pk}/")).status_code == 204


@pytest.mark.parametrize("odd", ["%C2%B2", "99999999999999999999999", "x"])
def test_an_odd_comment_id_is_404(client_of, graph, odd):
    response = client_of(graph["calc"].user).patch(url(graph, f"{odd}/"), {})
    assert response.status_code == 404


def test_a_comment_of_another_node_is_404(client_of, graph):
    comment = DbComment.objects.get()
    other = f"/api/v1/nodes/{graph['workflow'].pk}/comments/{comment.pk}/"
    assert client_of(comment.user).delete(other).status_code == 404
    assert DbComment.objects.exists()
