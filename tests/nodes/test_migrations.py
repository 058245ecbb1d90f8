"""Data migrations of the nodes app, run for real against the test database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("nodes", "0003_drop_redundant_link_indexes")]
AFTER = [("nodes", "0004_object_references")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_object_references_are_filled_from_existing_file_trees(django_user_model):
    old = migrate(BEFORE)
    user = django_user_model.objects.create(username="migrator")
    node_model = old.get_model("nodes", "DbNode")
    tree = {"o": {"a.txt": {"k": "a" * 64}, "sub": {"o": {"b": {"k": "b" * 64}}}}}
    with_files = node_model.objects.create(
        node_type="data.core.folder.FolderData.",
        user_id=user.pk,
        repository_metadata=tree,
    )
    node_model.objects.create(node_type="data.core.int.Int.", user_id=user.pk)
    try:
        new = migrate(AFTER)
        references = new.get_model("nodes", "DbNodeObject").objects
        assert set(references.values_list("node_id", "key")) == {
            (with_files.pk, "a" * 64),
            (with_files.pk, "b" * 64),
        }
    finally:
        migrate(executor_leaf_targets())


def executor_leaf_targets():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_nodes_keep_every_row_when_computers_arrive(django_user_model):
    old = migrate([("nodes", "0006_link_walk_indexes")])
    user = django_user_model.objects.create(username="migrator")
    node_model = old.get_model("nodes", "DbNode")
    kept = node_model.objects.create(
        node_type="process.calculation.calcjob.CalcJobNode.", user_id=user.pk
    )
    try:
        new = migrate(executor_leaf_targets())
        node = new.get_model("nodes", "DbNode").objects.get(pk=kept.pk)
        assert node.uuid == kept.uuid
        assert node.dbcomputer_id is None
    finally:
        migrate(executor_leaf_targets())
