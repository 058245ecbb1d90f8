"""Fill an empty site with a realistic provenance graph to browse."""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from aiidasite.exceptions import AiidaSiteError
from nodes import demo, services
from nodes.models import DbNode


class Command(BaseCommand):
    help = (
        "Create the staff user admin/admin and, on an empty database, a "
        "provenance graph of band-structure workflows on real crystals "
        "(structures, parameters, k-points, calculations, bands with .npy "
        "files, retrieved folders, workflows, groups) spread over six days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--nodes",
            type=int,
            default=140,
            help="about how many nodes to create (default 140)",
        )

    def handle(self, *args: Any, nodes: int, **options: Any) -> None:
        if nodes < 1:
            raise CommandError("--nodes must be at least 1")
        with transaction.atomic():
            user = self.demo_user()
            if DbNode.objects.exists():
                self.stdout.write(
                    "The database already holds nodes; no demo data added."
                )
                return
            units = -(-nodes // demo.UNIT_SIZE)
            with tqdm(
                total=units,
                unit="workflow",
                file=sys.stderr,
                disable=options["verbosity"] == 0 or not sys.stderr.isatty(),
            ) as bar:
                try:
                    made = demo.demo_graph_create(
                        user=user, size=nodes, now=timezone.now(), progress=bar.update
                    )
                    self.make_groups(user, made)
                except AiidaSiteError as exc:
                    raise CommandError(str(exc)) from None
        total = DbNode.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {total} nodes in {units} band-structure workflows."
            )
        )

    def demo_user(self) -> Any:
        model = get_user_model()
        user, made = model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if made:
            user.set_password("admin")
            user.save()
            self.stdout.write("Created user admin (password: admin).")
        return user

    def make_groups(self, user: Any, made: dict[str, list[int]]) -> None:
        for label, key, description in (
            ("demo/structures", "structure", "every crystal structure"),
            ("demo/bands", "bands", "band structures from pw.x"),
            ("demo/workflows", "workchain", "PwBandsWorkChain runs"),
        ):
            group = services.group_create(
                user=user, label=label, description=description
            )
            services.group_add_nodes(group=group, pks=made[key])
