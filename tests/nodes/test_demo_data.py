"""The demo_data command: a realistic graph that follows every link rule."""

from __future__ import annotations

import ast
import struct
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from nodes import services, types
from nodes.models import DbGroup, DbLink, DbNode

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("demo_data", *args, stdout=out)
    return out.getvalue()


def read_npy(content: bytes) -> tuple[tuple[int, int], list[float]]:
    assert content[:8] == b"\x93NUMPY\x01\x00"
    length = struct.unpack("<H", content[8:10])[0]
    header = content[10 : 10 + length].decode()
    assert (10 + length) % 64 == 0
    shape = ast.literal_eval(header)["shape"]
    values = struct.unpack(f"<{shape[0] * shape[1]}d", content[10 + length :])
    return shape, list(values)


def test_demo_data_builds_a_band_structure_graph(settings):
    settings.DEBUG = True
    output = run("--nodes", "60")
    assert "Created user admin" in output
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.check_password("admin")
    assert DbNode.objects.count() >= 60
    counts = {
        kind: DbNode.objects.filter(node_type=kind).count()
        for kind in (types.STRUCTURE, types.BANDS, types.WORKCHAIN, types.CALCJOB)
    }
    assert counts[types.STRUCTURE] == counts[types.BANDS] == counts[types.WORKCHAIN]
    assert counts[types.CALCJOB] == 2 * counts[types.BANDS]
    assert set(DbLink.objects.values_list("type", flat=True)) == {
        "create",
        "return",
        "input_calc",
        "input_work",
        "call_calc",
    }
    labels = set(DbGroup.objects.values_list("label", flat=True))
    assert labels == {"demo/structures", "demo/bands", "demo/workflows"}
    days = {node.ctime.date() for node in DbNode.objects.only("ctime")}
    assert len(days) >= 3


def test_bands_are_real_arrays_in_npy_files_created_by_a_calculation():
    run("--nodes", "14")
    bands = DbNode.objects.get(node_type=types.BANDS)
    shape, values = read_npy(
        services.node_repository(node=bands).get_object_content("bands.npy")
    )
    assert list(shape) == bands.attributes["array|bands"]
    # The lowest free-electron band starts at zero energy at Gamma.
    assert values[0] == 0.0
    assert all(v >= 0 for v in values)
    creator = DbLink.objects.get(output=bands, type="create").input
    assert creator.node_type == types.CALCJOB
    structure = DbLink.objects.get(output=creator, label="structure").input
    assert structure.node_type == types.STRUCTURE
    assert {"cell", "kinds", "sites", "pbc1"} <= structure.attributes.keys()
    retrieved = DbLink.objects.get(input=creator, label="retrieved").output
    out = services.node_repository(node=retrieved).get_object_content("aiida.out")
    assert b"JOB DONE" in out


def test_demo_data_adds_nothing_to_a_database_with_nodes():
    run("--nodes", "14")
    before = DbNode.objects.count()
    assert "no demo data added" in run("--nodes", "14")
    assert DbNode.objects.count() == before


def test_demo_data_adds_no_user_to_a_database_with_users(django_user_model):
    django_user_model.objects.create(username="someone")

    assert "no demo data added" in run("--nodes", "14")

    assert list(django_user_model.objects.values_list("username", flat=True)) == [
        "someone"
    ]
    assert DbNode.objects.count() == 0


def test_demo_superuser_gets_a_random_password_when_debug_is_off(settings):
    settings.DEBUG = False

    output = run("--nodes", "14")

    admin = get_user_model().objects.get(username="admin")
    password = output.split("Created user admin (password: ", 1)[1].split(")")[0]
    assert admin.is_superuser
    assert not admin.check_password("admin")
    assert len(password) >= 20 and admin.check_password(password)


@pytest.mark.parametrize("nodes", ["0", "-5", "100001", "99999999999"])
def test_demo_data_refuses_a_size_out_of_range_and_creates_nothing(
    nodes, django_user_model
):
    with pytest.raises(CommandError, match=f"from 1 to 100000, got {nodes}$"):
        run("--nodes", nodes)
    assert not DbNode.objects.exists()
    assert not django_user_model.objects.exists()
