"""Fill an empty site with a realistic provenance graph to browse."""

from __future__ import annotations

import secrets
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from aiidasite.exceptions import AiidaSiteError
from computers.demo import demo_annotations_create
from nodes import demo, services
from nodes.models import DbNode

# Enough for a realistic site to browse (minutes to create); beyond it one
# transaction would grow for hours, holding every row in memory.
MAX_NODES = 100_000


def holds_data() -> bool:
    # Groups and nodes protect their users, so users exist wherever they do.
    return get_user_model().objects.exists() or DbNode.objects.exists()


class Command(BaseCommand):
    help = (
        "On an empty database only: create the superuser admin (password "
        "admin while DEBUG is on, else a random one that is printed) and a "
        "provenance graph of band-structure workflows on real crystals "
        "(structures, parameters, k-points, calculations, bands with .npy "
        "files, retrieved folders, workflows, groups, computers, comments "
        "and log records) spread over six days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--nodes",
            type=int,
            default=140,
            help=f"about how many nodes to create (default 140, at most {MAX_NODES})",
        )

    def handle(self, *args: Any, nodes: int, **options: Any) -> None:
        if not 1 <= nodes <= MAX_NODES:
            raise CommandError(f"--nodes must be from 1 to {MAX_NODES}, got {nodes}")
        with transaction.atomic():
            # A site in use keeps its accounts: no demo user joins them.
            if holds_data():
                self.stdout.write(
                    "The database already holds users or nodes; no demo data added."
                )
                return
            user = self.demo_user()
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
                    extra = demo_annotations_create(user=user)
                except AiidaSiteError as exc:
                    raise CommandError(str(exc)) from None
        total = DbNode.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {total} nodes in {units} band-structure workflows, "
                f"{extra['computers']} computers, {extra['comments']} comments "
                f"and {extra['logs']} log records."
            )
        )

    def demo_user(self) -> Any:
        # admin/admin only while DEBUG says this is a developer's machine;
        # anywhere else the superuser gets a password nobody can guess.
        password = "admin" if settings.DEBUG else secrets.token_urlsafe(18)
        user = get_user_model().objects.create_superuser(
            username="admin", email="", password=password
        )
        self.stdout.write(f"Created user admin (password: {password}).")
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
