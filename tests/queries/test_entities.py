"""QueryBuilder entities computer, authinfo, comment and log with
aiida-core's relationships, through the builder and its JSON form."""

from __future__ import annotations

import pytest

from aiidasite.exceptions import InputValidationError
from comments.models import DbComment
from computers.models import DbAuthInfo, DbComputer
from logs.models import DbLog
from nodes import services, types
from nodes.models import DbNode
from queries.builder import QueryBuilder

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(django_user_model):
    ada = django_user_model.objects.create(username="ada", email="ada@example.org")
    bob = django_user_model.objects.create(username="bob", email="bob@example.org")
    cluster = DbComputer.objects.create(label="cluster", scheduler_type="core.slurm")
    laptop = DbComputer.objects.create(label="laptop", scheduler_type="core.direct")
    DbAuthInfo.objects.create(aiidauser=ada, dbcomputer=cluster, auth_params={"k": 1})
    calcs = []
    for index, computer in enumerate((cluster, cluster, laptop)):
        calc = services.node_store(user=ada, node_type=types.CALCJOB, label=f"c{index}")
        DbNode.objects.filter(pk=calc.pk).update(dbcomputer=computer)
        calcs.append(calc)
    services.node_store(user=ada, node_type=types.INT, label="plain")
    DbComment.objects.create(dbnode=calcs[0], user=ada, content="by ada")
    DbComment.objects.create(dbnode=calcs[1], user=bob, content="by bob")
    DbLog.objects.create(dbnode=calcs[0], levelname="ERROR", message="boom")
    DbLog.objects.create(dbnode=calcs[0], levelname="REPORT", message="ok")
    DbLog.objects.create(dbnode=calcs[2], levelname="WARNING", message="hm")
    return calcs


def labels(query: QueryBuilder) -> list[str]:
    return sorted(row[0] for row in query.all())


def test_nodes_with_computer_and_computers_with_node(graph):
    query = QueryBuilder().append("computer", tag="c", filters={"label": "cluster"})
    query.append("node", with_computer="c", project=["label"])
    assert labels(query) == ["c0", "c1"]
    query = QueryBuilder().append("CalcJobNode", tag="n", filters={"label": "c2"})
    query.append("computer", with_node="n", project=["label"])
    assert query.all() == [["laptop"]]


def test_comments_and_logs_with_node_and_back(graph):
    query = QueryBuilder().append("node", tag="n", filters={"label": "c0"})
    query.append("log", with_node="n", project=["levelname", "message"])
    assert sorted(query.all()) == [["ERROR", "boom"], ["REPORT", "ok"]]
    query = QueryBuilder().append("log", tag="l", filters={"levelname": "WARNING"})
    query.append("node", with_log="l", project=["label"])
    assert query.all() == [["c2"]]
    query = QueryBuilder().append("comment", tag="m")
    query.append("node", with_comment="m", project=["label"])
    assert labels(query) == ["c0", "c1"]


def test_comments_with_user_and_users_with_comment(graph):
    query = QueryBuilder().append("user", tag="u", filters={"username": "bob"})
    query.append("comment", with_user="u", project=["content"])
    assert query.all() == [["by bob"]]
    query = QueryBuilder().append("comment", tag="m", filters={"content": "by ada"})
    query.append("user", with_comment="m", project=["email"])
    assert query.all() == [["ada@example.org"]]


def test_auth_infos_join_computers_and_users_without_their_params(graph):
    query = QueryBuilder().append("computer", tag="c")
    query.append("authinfo", with_computer="c", project=["*"])
    ((row,),) = query.all()
    assert "auth_params" not in row and row["enabled"] is True
    with pytest.raises(InputValidationError, match="Unknown field 'auth_params'"):
        QueryBuilder().append("authinfo", project=["auth_params"]).all()


def test_the_json_form_counts_and_filters(graph):
    query = QueryBuilder.from_dict(
        {
            "path": [
                {"entity": "computer", "tag": "c"},
                {"entity": "node", "tag": "n", "with_computer": "c"},
                {"entity": "log", "tag": "l", "with_node": "n"},
            ],
            "filters": {"c": {"scheduler_type": {"like": "core.s%"}}},
            "project": {"l": ["message"]},
        }
    )
    assert query.count() == 2
    assert sorted(query.all()) == [["boom"], ["ok"]]
    assert QueryBuilder.from_dict(query.as_dict()).count() == 2


def test_a_relation_an_entity_does_not_take_is_refused(graph):
    query = QueryBuilder().append("log", tag="l")
    with pytest.raises(InputValidationError, match="with_node"):
        query.append("computer", with_user="l")


def test_the_query_api_serves_auth_infos_to_staff_only(api_client, staff_client, graph):
    api_client.force_authenticate(graph[0].user)
    query = {"path": [{"entity": "authinfo", "tag": "a"}], "project": {"a": ["id"]}}
    response = api_client.post("/api/v1/querybuilder/", query, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "auth infos are shown to staff only"}
    response = staff_client.post("/api/v1/querybuilder/", query, format="json")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
