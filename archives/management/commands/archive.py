"""``manage.py archive import|export|inspect|migrate``: AiiDA archives in and out."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from aiidasite.exceptions import AiidaSiteError
from archives import services
from archives.importer import ENTITY_KINDS


class Command(BaseCommand):
    help = "Import, export and inspect AiiDA archives (.aiida files)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import one or more archives")
        imp.add_argument("files", nargs="+", metavar="FILE")
        imp.add_argument(
            "--skip-dangling-links",
            action="store_true",
            help="import the rest when a link names a node the archive lacks",
        )
        exp = sub.add_parser("export", help="write an archive")
        exp.add_argument("file", metavar="FILE")
        exp.add_argument(
            "--nodes",
            nargs="+",
            type=int,
            default=[],
            metavar="PK",
            help="nodes to export (their provenance comes along)",
        )
        exp.add_argument(
            "--groups",
            nargs="+",
            default=[],
            metavar="LABEL",
            help="groups to export with their nodes",
        )
        exp.add_argument("--all", action="store_true", help="export everything")
        exp.add_argument(
            "--overwrite", action="store_true", help="replace FILE if it exists"
        )
        exp.add_argument(
            "--parents",
            action="store_true",
            help="create FILE's missing parent folders",
        )
        exp.add_argument(
            "--no-comments",
            dest="include_comments",
            action="store_false",
            help="leave the nodes' comments out",
        )
        exp.add_argument(
            "--no-logs",
            dest="include_logs",
            action="store_false",
            help="leave the nodes' log records out",
        )
        exp.add_argument(
            "--include-authinfos",
            action="store_true",
            help="include the computers' auth infos (may hold credentials)",
        )
        ins = sub.add_parser("inspect", help="describe an archive without importing")
        ins.add_argument("file", metavar="FILE")
        ins.add_argument("--format", choices=["text", "json"], default="text")
        mig = sub.add_parser(
            "migrate", help="rewrite an archive of any version as main_0001"
        )
        mig.add_argument("input", metavar="IN")
        mig.add_argument("output", metavar="OUT")
        mig.add_argument(
            "--parents", action="store_true", help="create OUT's missing parent folders"
        )
        mig.add_argument(
            "--overwrite", action="store_true", help="replace OUT if it exists"
        )
        mig.add_argument(
            "--skip-dangling-links",
            action="store_true",
            help="leave out links that name a node the archive lacks",
        )

    def handle(self, *args, action: str, **options):
        progress = options["verbosity"] > 0 and sys.stderr.isatty()
        try:
            if action == "import":
                self.import_archives(
                    options["files"], progress, options["skip_dangling_links"]
                )
            elif action == "export":
                self.export_archive(options, progress)
            elif action == "migrate":
                self.migrate_archive(options, progress)
            else:
                self.inspect_archive(options["file"], options["format"])
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from exc

    def import_archives(
        self, files: list[str], progress: bool, skip_dangling_links: bool
    ) -> None:
        for path in files:
            try:
                summary = services.archive_import(
                    path, progress=progress, skip_dangling_links=skip_dangling_links
                )
            except AiidaSiteError as exc:
                # Several files: the error says which (those before it are in).
                message = str(exc)
                if path not in message:
                    message = f"{path}: {message}"
                raise CommandError(message) from exc
            self.write_skipped(summary.skipped)
            if not summary.changed:
                self.stdout.write(
                    f"{path}: nothing new, every entity was here already "
                    "(existing ones are kept as they are)."
                )
            else:
                self.report_counts(path, summary)

    def report_counts(self, path: str, summary: services.ImportSummary) -> None:
        self.stdout.write(self.style.SUCCESS(f"{path}: imported"))
        for kind in ENTITY_KINDS:
            new = getattr(summary, f"{kind}_new")
            existing = getattr(summary, f"{kind}_existing")
            self.stdout.write(f"  {kind:<11} {new} new, {existing} existing")
        self.stdout.write(f"  {'memberships':<11} {summary.memberships_new} new")
        self.stdout.write(
            f"  {'files':<11} {summary.files_new} new, {summary.files_existing} present"
        )
        for rename in summary.renamed_groups:
            self.stdout.write(f"  group label taken, imported as: {rename}")
        for rename in summary.renamed_computers:
            self.stdout.write(f"  computer label taken, imported as: {rename}")

    def export_archive(self, options: dict, progress: bool) -> None:
        summary = services.archive_export(
            options["file"],
            node_pks=options["nodes"],
            group_labels=options["groups"],
            everything=options["all"],
            overwrite=options["overwrite"],
            parents=options["parents"],
            include_comments=options["include_comments"],
            include_logs=options["include_logs"],
            include_authinfos=options["include_authinfos"],
            progress=progress,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {summary.path}: {summary.nodes} nodes, {summary.links} "
                f"links, {summary.groups} groups, {summary.users} users, "
                f"{summary.computers} computers, {summary.authinfos} auth infos, "
                f"{summary.comments} comments, {summary.logs} logs, "
                f"{summary.files} files."
            )
        )

    def write_skipped(self, skipped: list[str]) -> None:
        for line in skipped:
            self.stdout.write(self.style.WARNING(f"  not imported: {line}"))

    def migrate_archive(self, options: dict, progress: bool) -> None:
        summary = services.archive_migrate(
            options["input"],
            options["output"],
            overwrite=options["overwrite"],
            parents=options["parents"],
            skip_dangling_links=options["skip_dangling_links"],
            progress=progress,
        )
        self.write_skipped(summary.skipped)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {summary.path} (main_0001, from {summary.from_version}): "
                f"{summary.nodes} nodes, {summary.links} links, {summary.groups} "
                f"groups, {summary.files} files."
            )
        )

    def inspect_archive(self, path: str, output: str) -> None:
        info = services.archive_inspect(path)
        if output == "json":
            self.stdout.write(json.dumps(info, indent=2))
            return
        self.stdout.write(f"Archive:  {info['path']}")
        self.stdout.write(f"Version:  {info['export_version']}")
        self.stdout.write(f"Written by AiiDA {info['aiida_version'] or 'unknown'}")
        self.stdout.write("Counts:")
        for name, count in info["counts"].items():
            self.stdout.write(f"  {name:<18} {count}")
        self.stdout.write("Node types:")
        for name, count in sorted(info["node_types"].items()):
            self.stdout.write(f"  {name:<45} {count}")
