"""The contract every backend keeps, run against each of them."""

from __future__ import annotations

import hashlib
import io

import pytest

from aiidasite.exceptions import InputValidationError, NotExistent
from repository.backends import AbstractRepositoryBackend
from repository.exceptions import ObjectNotFoundError


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_and_read_back_gives_the_same_bytes(backend):
    key = backend.put_object_from_filelike(io.BytesIO(b"some content"))
    assert backend.get_object_content(key) == b"some content"
    with backend.open(key) as handle:
        assert handle.read() == b"some content"


def test_put_reads_from_the_current_position(backend):
    handle = io.BytesIO(b"skip-this|keep-this")
    handle.seek(10)
    key = backend.put_object_from_filelike(handle)
    assert backend.get_object_content(key) == b"keep-this"


def test_empty_object_round_trips(backend):
    key = backend.put_object_from_filelike(io.BytesIO(b""))
    assert backend.get_object_content(key) == b""
    assert backend.get_object_hash(key) == sha256(b"")


def test_put_refuses_a_text_stream(backend):
    with pytest.raises(TypeError):
        backend.put_object_from_filelike(io.StringIO("text"))
    assert list(backend.list_objects()) == []


def test_put_refuses_a_handle_that_cannot_be_read(backend, tmp_path):
    with open(tmp_path / "out.bin", "wb") as handle, pytest.raises(TypeError):
        backend.put_object_from_filelike(handle)
    with pytest.raises(TypeError):
        backend.put_object_from_filelike(b"raw bytes are not a stream")


def test_is_readable_byte_stream_tells_bytes_from_text(backend, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    with open(path, "rb") as binary, open(path) as text:
        assert backend.is_readable_byte_stream(binary)
        assert not backend.is_readable_byte_stream(text)
    assert backend.is_readable_byte_stream(io.BytesIO(b""))
    assert not backend.is_readable_byte_stream(object())


def test_put_object_from_file_stores_the_file_content(backend, tmp_path):
    path = tmp_path / "input.dat"
    path.write_bytes(b"\x00\x01binary\xff")
    key = backend.put_object_from_file(path)
    assert backend.get_object_content(key) == b"\x00\x01binary\xff"


def test_has_objects_answers_in_the_order_asked(backend):
    first = backend.put_object_from_filelike(io.BytesIO(b"one"))
    second = backend.put_object_from_filelike(io.BytesIO(b"two"))
    missing = "f" * 64
    assert backend.has_objects([second, missing, first]) == [True, False, True]
    assert backend.has_object(first)
    assert not backend.has_object(missing)


def test_open_of_a_missing_key_raises_file_not_found(backend):
    with pytest.raises(FileNotFoundError), backend.open("0" * 64):
        pass
    with pytest.raises(NotExistent):
        backend.get_object_content("0" * 32)


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "", "a/b", "x\x00"])
def test_keys_that_look_like_paths_are_never_found(backend, key):
    assert backend.has_objects([key]) == [False]
    with pytest.raises(ObjectNotFoundError):
        backend.get_object_content(key)


def test_get_object_hash_is_the_sha256_of_the_content(backend):
    content = b"hash me" * 1000
    key = backend.put_object_from_filelike(io.BytesIO(content))
    assert backend.get_object_hash(key) == sha256(content)


def test_get_object_hash_of_a_missing_key_raises(backend):
    with pytest.raises(ObjectNotFoundError):
        backend.get_object_hash("a" * 64)


def test_delete_object_removes_only_that_object(backend):
    gone = backend.put_object_from_filelike(io.BytesIO(b"delete me"))
    kept = backend.put_object_from_filelike(io.BytesIO(b"keep me"))
    backend.delete_object(gone)
    assert backend.has_objects([gone, kept]) == [False, True]
    with pytest.raises(ObjectNotFoundError):
        backend.get_object_content(gone)


def test_delete_objects_with_a_missing_key_deletes_nothing(backend):
    kept = backend.put_object_from_filelike(io.BytesIO(b"keep me"))
    with pytest.raises(FileNotFoundError, match=f"object with key `{'e' * 64}` does"):
        backend.delete_objects([kept, "e" * 64])
    assert backend.has_object(kept)


def test_delete_objects_names_the_first_missing_key_and_counts_the_rest(backend):
    with pytest.raises(ObjectNotFoundError, match=r"`a{64}` does not exist \(nor 2 "):
        backend.delete_objects(["a" * 64, "b" * 64, "c" * 64])


def test_list_objects_lists_every_key_once(backend):
    keys = {backend.put_object_from_filelike(io.BytesIO(bytes([i]))) for i in range(5)}
    keys.update(backend.put_objects_from_bytes([b"bulk-1", b"bulk-2"]))
    listed = list(backend.list_objects())
    assert sorted(listed) == sorted(keys)


def test_bulk_put_returns_keys_in_input_order(backend):
    contents = [f"object {i}".encode() for i in range(50)]
    keys = backend.put_objects_from_bytes(contents)
    assert [backend.get_object_content(key) for key in keys] == contents


def test_bulk_put_from_filelikes_refuses_a_text_handle_and_stores_nothing(backend):
    with pytest.raises(TypeError):
        backend.put_objects_from_filelikes([io.BytesIO(b"ok"), io.StringIO("no")])
    assert list(backend.list_objects()) == []


def test_bulk_put_of_nothing_returns_no_keys(backend):
    assert backend.put_objects_from_bytes([]) == []
    assert backend.put_objects_from_filelikes([]) == []


def test_iter_object_streams_yields_every_requested_object(backend):
    contents = {
        backend.put_object_from_filelike(io.BytesIO(c)): c for c in (b"a", b"b")
    }
    contents.update(
        zip(backend.put_objects_from_bytes([b"c", b"d"]), [b"c", b"d"], strict=True)
    )
    with backend.iter_object_streams(list(contents)) as pairs:
        read = {key: stream.read() for key, stream in pairs}
    assert read == contents
    # And as a plain iterator, as aiida-core's callers use it.
    plain = {
        key: stream.read() for key, stream in backend.iter_object_streams(contents)
    }
    assert plain == contents


def test_iter_object_streams_stopped_early_releases_its_streams(backend):
    keys = backend.put_objects_from_bytes([b"first", b"second"])
    keys.append(backend.put_object_from_filelike(io.BytesIO(b"loose")))
    with backend.iter_object_streams(keys) as pairs:
        next(pairs)
    with pytest.raises(StopIteration):
        next(pairs)
    assert backend.get_objects_content(keys)[keys[1]] == b"second"


def test_iter_object_streams_raises_on_a_missing_key(backend):
    key = backend.put_object_from_filelike(io.BytesIO(b"here"))
    with pytest.raises(ObjectNotFoundError):
        with backend.iter_object_streams([key, "c" * 64]) as pairs:
            for _ in pairs:
                pass


def test_get_objects_content_maps_keys_to_contents(backend):
    keys = backend.put_objects_from_bytes([b"x", b"y"])
    assert backend.get_objects_content(keys) == dict(
        zip(keys, [b"x", b"y"], strict=True)
    )


def test_get_info_counts_objects(backend):
    backend.put_objects_from_bytes([b"1", b"2", b"3"])
    info = backend.get_info()
    assert info["backend"] == type(backend).__name__
    total = info["Objects"].get("count", None)
    if total is None:
        total = info["Objects"]["loose"] + info["Objects"]["packed"]
    assert total == 3
    assert "Size (MB)" not in info
    assert "Size (MB)" in backend.get_info(detailed=True)


def test_maintain_keeps_every_object_readable(backend):
    keys = [backend.put_object_from_filelike(io.BytesIO(b"%d" % i)) for i in range(20)]
    keys += backend.put_objects_from_bytes([b"p%d" % i for i in range(20)])
    dry = backend.maintain(dry_run=True)
    assert dry["dry_run"] is True
    backend.maintain()
    backend.maintain(live=False)
    contents = backend.get_objects_content(keys)
    assert contents[keys[0]] == b"0"
    assert contents[keys[-1]] == b"p19"
    assert backend.find_corrupt_objects() == []


def test_erase_removes_every_object(backend):
    key = backend.put_object_from_filelike(io.BytesIO(b"x"))
    backend.erase()
    assert not backend.is_initialised
    backend.initialise()
    assert not backend.has_object(key)


def test_initialise_twice_keeps_the_content(backend):
    key = backend.put_object_from_filelike(io.BytesIO(b"x"))
    backend.initialise()
    assert backend.is_initialised
    assert backend.get_object_content(key) == b"x"


def test_large_object_streams_in_chunks(backend):
    content = bytes(range(256)) * (5 * 4096)  # 5 MiB
    key = backend.put_object_from_filelike(io.BytesIO(content))
    with backend.open(key) as handle:
        first = handle.read(1024)
        rest = handle.read()
    assert first + rest == content
    assert backend.get_object_hash(key) == sha256(content)


def test_every_backend_is_an_abstract_repository_backend(backend):
    assert isinstance(backend, AbstractRepositoryBackend)
    assert isinstance(backend.key_format, str)


def test_discard_objects_deletes_stored_keys_and_ignores_missing_ones(backend):
    kept = backend.put_object_from_filelike(io.BytesIO(b"kept"))
    loose = backend.put_object_from_filelike(io.BytesIO(b"loose"))
    packed = backend.put_objects_from_bytes([b"packed"])[0]
    missing = backend.put_object_from_filelike(io.BytesIO(b"gone already"))
    backend.delete_objects([missing])

    backend.discard_objects([loose, packed, missing])

    assert backend.has_objects([kept, loose, packed, missing]) == [
        True,
        False,
        False,
        False,
    ]


def test_discard_objects_ignores_keys_that_are_not_keys(backend):
    kept = backend.put_object_from_filelike(io.BytesIO(b"kept"))

    backend.discard_objects(["../../etc/passwd", ""])

    assert backend.has_object(kept)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"do_repack": True}, "do_repack"),
        ({"clean_storage": True}, "clean_storage"),
        ({"do_vacuum": True}, "do_vacuum"),
        ({"do_repack": True, "do_vacuum": True}, "do_repack, do_vacuum"),
    ],
)
def test_maintain_refuses_exclusive_steps_while_live(backend, options, named):
    key = backend.put_object_from_filelike(io.BytesIO(b"loose"))
    before = backend.get_info()["Objects"]
    with pytest.raises(ValueError, match=f"cannot be if `live=True`: {named}$"):
        backend.maintain(live=True, **options)
    with pytest.raises(InputValidationError):
        backend.maintain(**options)
    assert backend.get_info()["Objects"] == before
    assert backend.get_object_content(key) == b"loose"
