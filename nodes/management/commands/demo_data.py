"""Fill an empty site with a small provenance graph to browse."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from nodes.models import DbGroup, DbLink, DbNode, LinkType


class Command(BaseCommand):
    help = (
        "Create a demo user (admin/admin, staff) and a small provenance graph: "
        "structures, calculations producing bands, a workflow and a group."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--nodes", type=int, default=50, help="about how many nodes to create"
        )

    @transaction.atomic
    def handle(self, *args, nodes: int, **options):
        user = self.demo_user()
        if DbNode.objects.exists():
            self.stdout.write("Demo data already present; nothing added.")
            return
        group = DbGroup.objects.create(label="demo-bands", user=user)
        created = 0
        while created < nodes:
            created += self.add_bands_calculation(user, group, created)
        self.stdout.write(self.style.SUCCESS(f"Created {created} nodes."))

    def demo_user(self):
        model = get_user_model()
        user, made = model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if made:
            user.set_password("admin")
            user.save()
            self.stdout.write("Created user admin (password: admin).")
        return user

    def add_bands_calculation(self, user, group, index: int) -> int:
        structure = DbNode.objects.create(
            node_type="data.core.structure.StructureData.",
            user=user,
            label=f"Si2 #{index}",
            attributes={
                "cell": [[5.43, 0, 0], [0, 5.43, 0], [0, 0, 5.43]],
                "pbc1": True,
                "pbc2": True,
                "pbc3": True,
                "kinds": [
                    {"name": "Si", "symbols": ["Si"], "weights": [1.0], "mass": 28.0855}
                ],
                "sites": [
                    {"kind_name": "Si", "position": [0, 0, 0]},
                    {"kind_name": "Si", "position": [1.36, 1.36, 1.36]},
                ],
            },
        )
        calc = DbNode.objects.create(
            node_type="process.calculation.calcjob.CalcJobNode.",
            process_type="aiida.calculations:quantumespresso.pw",
            user=user,
            label="bands",
            attributes={"process_state": "finished", "exit_status": 0},
        )
        bands = DbNode.objects.create(
            node_type="data.core.array.bands.BandsData.",
            user=user,
            attributes={"array|bands": [8, 30], "units": "eV"},
        )
        DbLink.objects.bulk_create(
            [
                DbLink(
                    input=structure,
                    output=calc,
                    label="structure",
                    type=LinkType.INPUT_CALC,
                ),
                DbLink(
                    input=calc, output=bands, label="output_band", type=LinkType.CREATE
                ),
            ]
        )
        group.dbnodes.add(bands)
        return 3
