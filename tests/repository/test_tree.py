"""The virtual file tree over a backend, run against every backend."""

from __future__ import annotations

import io
import json
from pathlib import Path, PurePosixPath

import pytest

from aiidasite.exceptions import InputValidationError, NotExistent
from repository import Repository, iter_keys
from repository.exceptions import (
    InvalidPathError,
    NotADirectoryPathError,
    NotAFileError,
    ObjectNotFoundError,
)
from repository.tree import File, FileType, validate_path


@pytest.fixture
def tree(backend) -> Repository:
    return Repository(backend)


def put(tree: Repository, path: str, content: bytes) -> str:
    """Store ``content`` at ``path``; the key it got."""
    assert tree.put_object_from_filelike(io.BytesIO(content), path) is None
    return tree.get_file(path).key


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../x",
        "a/../b",
        "a//b",
        "./a",
        "a/.",
        "a\x00b",
        "/",
        "//a",
        "a/b//",
    ],
)
def test_invalid_paths_are_refused_with_a_clear_error(tree, path):
    with pytest.raises(InvalidPathError) as caught:
        put(tree, path, b"x")
    assert repr(path) in str(caught.value) or f"`{path}`" in str(caught.value)
    assert tree.is_empty()
    assert list(tree.backend.list_objects()) == []


def test_invalid_path_error_is_a_value_error_and_an_input_validation_error():
    with pytest.raises(ValueError):
        validate_path("../x")
    with pytest.raises(InputValidationError):
        validate_path("../x")


def test_an_absolute_path_is_a_type_error_in_aiida_cores_words():
    with pytest.raises(TypeError, match=r"path `/abs/x` is not a relative path"):
        validate_path("/abs/x")
    with pytest.raises(TypeError, match="not a relative path"):
        Repository._pre_process_path(PurePosixPath("/abs"))


def test_a_path_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError, match=r"not of type `str` nor `pathlib\.PurePath`"):
        validate_path(42)  # type: ignore[arg-type]


def test_a_lone_dot_is_the_root_but_dot_segments_are_refused(tree):
    put(tree, "a/f", b"x")
    assert validate_path(".") == PurePosixPath()
    assert tree.list_object_names(".") == ["a"]
    for path in ("./a", "a/./f", "a/.."):
        with pytest.raises(InvalidPathError, match=r"'\.\.' segment"):
            tree.get_object(path)


def test_validate_path_accepts_plain_relative_paths():
    assert validate_path("a/b.txt") == PurePosixPath("a/b.txt")
    assert validate_path("dir/") == PurePosixPath("dir")
    assert validate_path(None) == PurePosixPath()
    assert validate_path("") == PurePosixPath()
    assert validate_path(PurePosixPath("x/y")) == PurePosixPath("x/y")
    assert validate_path("..hidden/...") == PurePosixPath("..hidden/...")
    assert Repository._pre_process_path("a/b") == PurePosixPath("a/b")


def test_a_pure_path_with_parent_segments_is_refused():
    with pytest.raises(InvalidPathError):
        validate_path(PurePosixPath("a/../b"))
    with pytest.raises(InvalidPathError):
        validate_path(PurePosixPath("/abs"))


def test_put_then_read_a_file_by_path(tree):
    put(tree, "dir/sub/file.txt", b"content")
    assert tree.get_object_content("dir/sub/file.txt") == b"content"
    with tree.open("dir/sub/file.txt") as handle:
        assert handle.read() == b"content"
    assert tree.list_object_names() == ["dir"]
    assert tree.list_object_names("dir/sub") == ["file.txt"]


def test_list_objects_is_sorted_by_name(tree):
    for name in ["b", "a", "c"]:
        put(tree, name, name.encode())
    tree.create_directory("0dir")
    entries = tree.list_objects()
    assert [e.name for e in entries] == ["0dir", "a", "b", "c"]
    assert entries[0].file_type is FileType.DIRECTORY
    assert entries[1].is_file()


def test_get_object_of_a_missing_path_is_not_existent(tree):
    with pytest.raises(NotExistent, match="object with path `nope/x` does not exist"):
        tree.get_object("nope/x")
    with pytest.raises(FileNotFoundError, match="no file or directory"):
        tree.get_file("nope")
    with pytest.raises(FileNotFoundError):
        tree.get_object_content("nope")
    assert not tree.has_object("nope")


def test_a_file_in_the_way_of_a_directory_is_refused(tree):
    put(tree, "file", b"x")
    with pytest.raises(NotADirectoryPathError):
        put(tree, "file/inner", b"y")
    with pytest.raises(NotADirectoryError, match="`file` is not a directory"):
        tree.list_objects("file")
    with pytest.raises(NotADirectoryPathError):
        tree.create_directory("file/sub")


def test_a_directory_cannot_be_overwritten_or_opened_as_a_file(tree):
    tree.create_directory("dir")
    with pytest.raises(NotAFileError):
        put(tree, "dir", b"x")
    with pytest.raises(IsADirectoryError, match="`dir` is not a file"):
        tree.get_object_content("dir")


def test_none_is_not_a_file_nor_a_directory_to_create(tree):
    with pytest.raises(TypeError, match="path cannot be `None`"):
        tree.get_file(None)
    with pytest.raises(TypeError, match="path cannot be `None`"):
        tree.create_directory(None)
    assert tree.create_directory("") is tree.get_directory()
    assert tree.is_empty()


def test_putting_a_file_twice_replaces_it(tree):
    put(tree, "f", b"old")
    put(tree, "f", b"new")
    assert tree.get_object_content("f") == b"new"
    assert tree.list_object_names() == ["f"]


def test_put_object_from_file_stores_a_local_file(tree, tmp_path):
    local = tmp_path / "local.bin"
    local.write_bytes(b"\x00local")
    tree.put_object_from_file(local, "copy.bin")
    assert tree.get_object_content("copy.bin") == b"\x00local"


def test_put_object_from_tree_copies_files_and_empty_folders(tree, tmp_path):
    source = tmp_path / "source"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "top.txt").write_bytes(b"top")
    (source / "sub" / "deeper" / "leaf.txt").write_bytes(b"leaf")
    tree.put_object_from_tree(source, "imported")
    assert tree.list_object_names("imported") == ["empty", "sub", "top.txt"]
    assert tree.get_object_content("imported/sub/deeper/leaf.txt") == b"leaf"
    assert tree.list_object_names("imported/empty") == []


def test_put_object_from_tree_at_the_root(tree, tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "a.txt").write_bytes(b"a")
    tree.put_object_from_tree(tmp_path / "source")
    assert tree.list_object_names() == ["a.txt"]
    assert tree.get_object_content("a.txt") == b"a"


def test_put_object_from_tree_refuses_a_file_as_source(tree, tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(NotADirectoryError):
        tree.put_object_from_tree(tmp_path / "f")


@pytest.mark.parametrize("source", ["relative/folder", ".", PurePosixPath("rel")])
def test_put_object_from_tree_refuses_a_relative_local_path(
    tree, tmp_path, monkeypatch, source
):
    # It would name a folder that exists, from the working directory.
    (tmp_path / "relative" / "folder").mkdir(parents=True)
    (tmp_path / "rel").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match="is not an absolute path"):
        tree.put_object_from_tree(source)
    with pytest.raises(InputValidationError):
        tree.put_object_from_tree(source)
    assert tree.is_empty()


def test_put_object_from_tree_refuses_what_is_not_a_path(tree):
    with pytest.raises(TypeError, match=r"not of type `str` nor `pathlib\.PurePath`"):
        tree.put_object_from_tree(None)  # type: ignore[arg-type]


def test_put_object_from_tree_stores_many_files(tree, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for i in range(600):
        (source / f"f{i:03d}").write_bytes(b"%d" % i)
    tree.put_object_from_tree(source, "many")
    assert len(tree.list_object_names("many")) == 600
    assert tree.get_object_content("many/f599") == b"599"


def test_delete_object_removes_it_from_the_tree_but_keeps_the_content(tree):
    key = put(tree, "d/f", b"x")
    tree.delete_object("d/f")
    assert not tree.has_object("d/f")
    assert tree.list_object_names("d") == []
    assert tree.backend.has_object(key)


def test_hard_delete_also_removes_the_content(tree):
    key = put(tree, "f", b"x")
    tree.delete_object("f", hard_delete=True)
    assert not tree.backend.has_object(key)


def test_delete_object_refuses_a_directory(tree):
    tree.create_directory("d")
    with pytest.raises(NotAFileError):
        tree.delete_object("d")
    assert tree.has_object("d")


def test_walk_visits_directories_top_down_in_sorted_order(tree):
    put(tree, "b/f2", b"2")
    put(tree, "a/x/f1", b"1")
    put(tree, "root.txt", b"r")
    tree.create_directory("a/empty")
    walked = [(str(root), dirs, files) for root, dirs, files in tree.walk()]
    assert walked == [
        (".", ["a", "b"], ["root.txt"]),
        ("a", ["empty", "x"], []),
        ("a/empty", [], []),
        ("a/x", [], ["f1"]),
        ("b", [], ["f2"]),
    ]


def test_copy_tree_writes_the_files_to_a_local_folder(tree, tmp_path):
    put(tree, "a/b.txt", b"b")
    put(tree, "c.txt", b"c")
    tree.create_directory("empty")
    tree.copy_tree(tmp_path / "out")
    assert (tmp_path / "out" / "a" / "b.txt").read_bytes() == b"b"
    assert (tmp_path / "out" / "c.txt").read_bytes() == b"c"
    assert (tmp_path / "out" / "empty").is_dir()


def test_copy_tree_of_a_subdirectory(tree, tmp_path):
    put(tree, "a/b/c.txt", b"c")
    tree.copy_tree(tmp_path / "out", "a")
    assert (tmp_path / "out" / "b" / "c.txt").read_bytes() == b"c"
    tree.copy_tree(str(tmp_path / "again"), ".")
    assert (tmp_path / "again" / "a" / "b" / "c.txt").read_bytes() == b"c"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("out", "provided target `out` is not an absolute path"),
        (Path("."), "provided target `.` is not an absolute path"),
        (None, "target path `None` is not of type `str` nor `pathlib.Path`"),
        (PurePosixPath("/tmp/x"), "is not of type `str` nor `pathlib.Path`"),
    ],
)
def test_copy_tree_refuses_a_relative_or_mistyped_target(
    tree, tmp_path, monkeypatch, target, message
):
    put(tree, "f", b"x")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(TypeError, match=message):
        tree.copy_tree(target)
    assert list(work.iterdir()) == []


def test_copy_tree_of_a_file_is_refused_before_writing(tree, tmp_path):
    put(tree, "f", b"x")
    with pytest.raises(NotADirectoryError, match="`f` is not a directory"):
        tree.copy_tree(tmp_path / "out", "f")
    assert not (tmp_path / "out").exists()


def test_serialize_uses_aiidas_format(tree):
    key = put(tree, "dir/file.txt", b"x")
    tree.create_directory("empty")
    assert tree.serialize() == {
        "o": {"dir": {"o": {"file.txt": {"k": key}}}, "empty": {}}
    }


def test_an_empty_tree_serializes_to_an_empty_dict(tree):
    assert tree.serialize() == {}
    assert Repository.from_serialized(tree.backend, {}).is_empty()
    assert Repository.from_serialized(tree.backend, None).is_empty()


def test_from_serialized_round_trips_through_json(tree):
    put(tree, "a/b", b"b")
    put(tree, "c", b"c")
    tree.create_directory("a/empty")
    data = json.loads(json.dumps(tree.serialize()))
    again = Repository.from_serialized(tree.backend, data)
    assert again.serialize() == tree.serialize()
    assert again.get_object_content("a/b") == b"b"
    assert again.get_object("a") == tree.get_object("a")


@pytest.mark.parametrize(
    "data",
    [
        {"o": {"../escape": {"k": "abc"}}},
        {"o": {"a/b": {"k": "abc"}}},
        {"o": {"f": {"k": 1}}},
        {"o": {"f": {"k": "a", "o": {}}}},
        {"x": 1},
        {"k": "root-cannot-be-a-file"},
        ["not", "a", "dict"],
    ],
)
def test_from_serialized_refuses_malformed_data(tree, data):
    with pytest.raises(InvalidPathError):
        Repository.from_serialized(tree.backend, data)


def test_iter_keys_lists_every_file_key(tree):
    keys = {put(tree, "a/b", b"1"), put(tree, "c", b"2"), put(tree, "a/d/e", b"3")}
    tree.create_directory("empty")
    assert set(iter_keys(tree.serialize())) == keys
    assert sorted(tree.get_file_keys()) == sorted(keys)
    assert list(iter_keys({})) == []
    assert list(iter_keys(None)) == []


def test_hash_depends_on_names_and_contents_not_on_the_backend(tree, tmp_path):
    from repository.backends import SandboxRepositoryBackend

    put(tree, "a/b", b"content")
    tree.create_directory("empty")
    other = Repository(SandboxRepositoryBackend(tmp_path / "other"))
    other.create_directory("empty")
    put(other, "a/b", b"content")
    assert tree.hash() == other.hash()
    put(other, "a/b", b"changed")
    assert tree.hash() != other.hash()


def test_hash_changes_with_a_rename_or_an_empty_folder(tree):
    put(tree, "a", b"x")
    first = tree.hash()
    tree.create_directory("d")
    second = tree.hash()
    tree.delete_object("a")
    put(tree, "b", b"x")
    assert len({first, second, tree.hash()}) == 3


def test_open_a_file_whose_content_is_gone_raises_not_existent(tree):
    key = put(tree, "f", b"x")
    tree.backend.delete_object(key)
    with pytest.raises(ObjectNotFoundError):
        tree.get_object_content("f")


def test_file_entries_compare_by_value():
    assert File("a", FileType.FILE, "k") == File("a", FileType.FILE, "k")
    assert File("a", FileType.FILE, "k") != File("a", FileType.FILE, "other")
    assert File() == File()
    assert File(objects={"x": File("x"), "y": File("y")}) == File(
        objects={"y": File("y"), "x": File("x")}
    )
    assert File(objects={"x": File("x")}) != File(objects={"x": File("z")})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("f", FileType.FILE, "key", {}), "`FileType.FILE` cannot define any objects"),
        (("f", FileType.FILE, None, {"c": File("c")}), "cannot define any objects"),
        (("d", FileType.DIRECTORY, "key", None), "cannot define a key"),
        (("d", FileType.DIRECTORY, "key", {}), "cannot define a key"),
    ],
)
def test_a_contradictory_entry_cannot_be_made(arguments, message):
    with pytest.raises(ValueError, match=message):
        File(*arguments)
    with pytest.raises(InputValidationError):
        File(*arguments)


@pytest.mark.parametrize(
    "arguments",
    [
        (None, FileType.FILE, "k", None),
        ("f", "file", "k", None),
        ("f", FileType.FILE, 123, None),
        ("d", FileType.DIRECTORY, None, {"c": "not an entry"}),
    ],
)
def test_an_entry_of_the_wrong_types_cannot_be_made(arguments):
    with pytest.raises(TypeError):
        File(*arguments)


def test_a_file_has_no_room_for_children_so_serialize_drops_nothing():
    entry = File("f", FileType.FILE, "key")
    assert entry.objects == {}
    with pytest.raises(TypeError):
        entry.objects["child"] = File("child")
    with pytest.raises(AttributeError):
        entry.key = "other"  # type: ignore[misc]
    assert entry.serialize() == {"k": "key"}


def test_flatten_maps_every_path_to_its_key_and_folders_to_none(tree):
    a = put(tree, "a/b.txt", b"b")
    c = put(tree, "c.txt", b"c")
    tree.create_directory("a/empty")
    tree.create_directory("top")
    assert Repository.flatten(tree.serialize()) == {
        "a/": None,
        "a/b.txt": a,
        "a/empty/": None,
        "c.txt": c,
        "top/": None,
    }
    assert tree.flatten(tree.serialize(), delimiter=":") == {
        "a:": None,
        "a:b.txt": a,
        "a:empty:": None,
        "c.txt": c,
        "top:": None,
    }
    assert Repository.flatten(None) == {}
    assert Repository.flatten({}) == {}


def test_clone_copies_files_and_empty_folders_across_backends(tree, tmp_path):
    from repository.backends import SandboxRepositoryBackend

    source = Repository(SandboxRepositoryBackend(tmp_path / "source"))
    put(source, "a/b.txt", b"b")
    put(source, "c.txt", b"c")
    source.create_directory("a/empty")
    tree.clone(source)
    assert tree.list_object_names() == ["a", "c.txt"]
    assert tree.list_object_names("a") == ["b.txt", "empty"]
    assert tree.get_object_content("a/b.txt") == b"b"
    assert tree.hash() == source.hash()
    assert tree.backend.has_object(tree.get_file("c.txt").key)


def test_clone_refuses_what_is_not_a_repository(tree):
    with pytest.raises(TypeError, match="not a Repository"):
        tree.clone({"o": {}})  # type: ignore[arg-type]
    assert tree.is_empty()


def test_uuid_and_is_initialised_are_the_backends(tmp_path):
    from disk_objectstore import Container

    from repository.backends import (
        DiskObjectStoreRepositoryBackend,
        SandboxRepositoryBackend,
    )

    container = Repository(DiskObjectStoreRepositoryBackend(Container(tmp_path / "c")))
    assert (container.uuid, container.is_initialised) == (None, False)
    container.initialise()
    assert container.is_initialised
    assert container.uuid == container.backend.container.container_id
    sandbox = Repository(SandboxRepositoryBackend(tmp_path / "s"))
    assert not sandbox.is_initialised
    sandbox.initialise()
    assert (sandbox.uuid, sandbox.is_initialised) == (None, True)


def test_erase_empties_the_tree_but_keeps_shared_contents(tree):
    key = put(tree, "f", b"shared")
    other = Repository(tree.backend)
    other.put_object_from_filelike(io.BytesIO(b"shared"), "g")
    tree.erase()
    assert tree.is_empty()
    assert tree.backend.has_object(key)


def test_a_tree_without_a_backend_uses_a_sandbox():
    tree = Repository()
    put(tree, "f", b"x")
    assert tree.backend.uuid is None
    assert tree.get_object_content("f") == b"x"
