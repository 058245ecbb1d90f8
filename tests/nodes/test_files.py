"""Node files: stored in the repository, immutable, cleaned up on deletion."""

from __future__ import annotations

import io

import pytest

from aiidasite.exceptions import InputValidationError
from nodes import services, types
from nodes.models import DbNode
from nodes.services import NodeSpec
from repository import get_backend
from repository.services import repository_maintain

pytestmark = pytest.mark.django_db


def test_files_are_stored_and_read_back(make_node):
    node = make_node(
        types.FOLDER,
        files={"aiida.out": b"done\n", "sub/data.txt": io.BytesIO(b"1 2 3")},
    )
    tree = services.node_repository(node=DbNode.objects.get(pk=node.pk))
    assert tree.list_object_names() == ["aiida.out", "sub"]
    assert tree.get_object_content("sub/data.txt") == b"1 2 3"
    key = node.repository_metadata["o"]["aiida.out"]["k"]
    assert get_backend().get_object_content(key) == b"done\n"


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../b", ""])
def test_store_refuses_bad_paths_and_writes_nothing(user, path):
    before = set(get_backend().list_objects())
    with pytest.raises(InputValidationError):
        services.node_store(
            user=user, node_type=types.FOLDER, files={"ok.txt": b"x", path: b"y"}
        )
    assert not DbNode.objects.exists()
    assert set(get_backend().list_objects()) == before


def test_store_refuses_text_streams(user):
    with pytest.raises(InputValidationError, match=r"file 'a\.txt'"):
        services.node_store(
            user=user, node_type=types.FOLDER, files={"a.txt": io.StringIO("x")}
        )
    assert not DbNode.objects.exists()


def test_a_failed_bulk_store_writes_no_files(user):
    content = b"orphan content for maintain"
    with pytest.raises(InputValidationError):
        services.nodes_store_bulk(
            user=user,
            nodes=[NodeSpec(types.FOLDER, files={"a": content}), NodeSpec("bad")],
        )
    assert not DbNode.objects.exists()
    backend = get_backend()
    keys = [
        key
        for key in backend.list_objects()
        if backend.get_object_content(key) == content
    ]
    # Validation runs before files are written, so nothing was left behind.
    assert keys == []


def test_maintain_keeps_referenced_objects_and_deletes_orphans(make_node):
    node = make_node(types.SINGLEFILE, files={"f.txt": b"kept by a node"})
    orphan = get_backend().put_object_from_filelike(io.BytesIO(b"nobody's"))
    repository_maintain()
    backend = get_backend()
    assert backend.has_objects([orphan]) == [False]
    assert backend.has_objects([node.repository_metadata["o"]["f.txt"]["k"]]) == [True]


def test_deletion_removes_objects_no_node_references(
    make_node, django_capture_on_commit_callbacks
):
    shared = b"same bytes in two nodes"
    gone = make_node(types.FOLDER, files={"a": shared, "b": b"only in the deleted"})
    kept = make_node(types.FOLDER, files={"copy": shared})
    keys = {name: entry["k"] for name, entry in gone.repository_metadata["o"].items()}
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_nodes([gone.pk], dry_run=False)
    backend = get_backend()
    assert backend.has_objects([keys["a"], keys["b"]]) == [True, False]
    assert services.node_repository(node=kept).get_object_content("copy") == shared


def test_a_dry_run_keeps_every_object(make_node, django_capture_on_commit_callbacks):
    node = make_node(types.FOLDER, files={"a": b"dry run keeps me"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.delete_nodes([node.pk], dry_run=True)
    assert callbacks == []
    assert get_backend().has_objects([node.repository_metadata["o"]["a"]["k"]]) == [
        True
    ]
