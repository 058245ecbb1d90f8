"""The streaming reader of legacy ``data.json``: every record, with its own
text, whatever the chunks the file arrives in."""

from __future__ import annotations

import io
import json

import pytest

from aiidasite.exceptions import CorruptArchive
from archives.legacy import data_json

DATA = {
    "export_data": {
        "User": {"1": {"email": "a@b.c", "first_name": "Ä"}},
        "Node": {
            "1": {"uuid": "u1", "label": "x " * 40, "dbcomputer": None},
            "2": {"uuid": "u2", "label": "", "ctime": "2020-01-01T00:00:00"},
        },
        "Group": {},
    },
    "node_attributes": {
        "1": {"energy": -1234567.125, "count": 12345678901234567890, "s": '\\"{'},
        "2": {"nested": {"list": [1, 2.5e-7, True, False, None]}, "emoji": "😀"},
    },
    "node_extras": {"1": {}, "2": {"_aiida_hash": "f" * 64}},
    "unknown_section": {"big": list(range(50))},
    "links_uuid": [
        {"input": "u1", "output": "u2", "label": "result", "type": "create"}
    ],
    "groups_uuid": {"g1": ["u1", "u2"], "g2": []},
}


def expected() -> list[tuple]:
    found = []
    for entity, rows in DATA["export_data"].items():
        found += [("export_data", (entity, pk), value) for pk, value in rows.items()]
    for section in ("node_attributes", "node_extras"):
        found += [(section, (pk,), value) for pk, value in DATA[section].items()]
    found += [("links_uuid", (), link) for link in DATA["links_uuid"]]
    for group, members in DATA["groups_uuid"].items():
        found += [("groups_uuid", (group,), member) for member in members]
    return found


def read(text: str) -> list[data_json.Record]:
    return list(data_json.records(io.BytesIO(text.encode())))


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, data_json.CHUNK])
@pytest.mark.parametrize("indent", [None, 2])
def test_every_record_whatever_the_chunks(monkeypatch, chunk, indent):
    monkeypatch.setattr(data_json, "CHUNK", chunk)
    found = read(json.dumps(DATA, indent=indent, ensure_ascii=False))
    assert [(r.section, r.keys, r.value) for r in found] == expected()
    # Each record's text is its own JSON, as the file has it.
    for record in found:
        assert json.loads(record.text) == record.value


def test_a_number_cut_by_the_buffer_is_read_whole(monkeypatch):
    monkeypatch.setattr(data_json, "CHUNK", 4)
    found = read('{"groups_uuid": {"g": [123456789, 5]}}')
    assert [r.value for r in found] == [123456789, 5]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "data.json is not valid JSON"),
        ("   ", "data.json is not valid JSON"),
        ("[1, 2]", "data.json is not a JSON object"),
        ('{"node_attributes": {"1": {"a": NaN}}}', "data.json is not valid JSON"),
        ('{"node_attributes": {"1": {"a": 1}', "data.json is not valid JSON"),
        ('{"node_attributes": {"1": {"a": 1}}} trailing', "not valid JSON"),
        ('{"node_attributes": [1]}', "node_attributes is not an object"),
        ('{"links_uuid": {}}', "links_uuid is not a list"),
        ('{"export_data" {}}', "data.json is not valid JSON"),
        ('{"export_data": {"Node": {"1": {"a" 1}}}}', "data.json is not valid JSON"),
    ],
)
def test_broken_content_is_refused_in_one_line(text, message):
    with pytest.raises(CorruptArchive) as error:
        read(text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_not_utf8_is_refused():
    with pytest.raises(CorruptArchive, match="not UTF-8"):
        list(data_json.records(io.BytesIO(b'{"links_uuid": ["\xff"]}')))


def test_a_fault_early_in_a_large_file_is_found_without_reading_it_all(monkeypatch):
    monkeypatch.setattr(data_json, "CHUNK", 1024)
    body = '{"node_attributes": {"1": {"a": tru }, ' + " " * 10_000_000 + "}}"
    handle = io.BytesIO(body.encode())
    with pytest.raises(CorruptArchive):
        list(data_json.records(handle))
    assert handle.tell() < 100_000
