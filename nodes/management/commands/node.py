"""Inspect and delete nodes, and read their files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from aiidasite.times import format_time
from nodes import bulk, services
from nodes.models import DbNode


def sorted_keys(value: Any) -> Any:
    """``value`` with the keys of every object in it in sorted order."""
    return json.loads(json.dumps(value, sort_keys=True))


class Command(BaseCommand):
    help = (
        "Work with nodes: 'show ID', 'delete IDS', 'repo ls ID [PATH]', "
        "'repo cat ID PATH', 'repo dump ID DEST', 'graph ID', 'export ID'. IDs "
        "are pks, uuids or uuid prefixes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        show = actions.add_parser("show", help="a node's fields and links")
        show.add_argument("identifier", help="pk, uuid or uuid prefix")
        show.add_argument("--format", choices=["text", "json"], default="text")

        delete = actions.add_parser(
            "delete", help="delete nodes with AiiDA's traversal rules"
        )
        delete.add_argument(
            "identifiers", nargs="+", metavar="ID", help="pks, uuids or uuid prefixes"
        )
        delete.add_argument(
            "--dry-run", action="store_true", help="only list what would go"
        )
        delete.add_argument(
            "--force", action="store_true", help="do not ask for confirmation"
        )
        for rule, what in (
            ("create-forward", "a calculation's outputs"),
            ("call-calc-forward", "calculations a deleted workflow called"),
            ("call-work-forward", "workflows a deleted workflow called"),
        ):
            delete.add_argument(
                f"--no-{rule}",
                dest=rule.replace("-", "_"),
                action="store_false",
                help=f"do not delete {what}",
            )
        delete.add_argument("--format", choices=["text", "json"], default="text")

        repo = actions.add_parser("repo", help="a node's files").add_subparsers(
            dest="repo_action", required=True
        )
        ls = repo.add_parser("ls", help="list a directory of the node's files")
        ls.add_argument("identifier", help="pk, uuid or uuid prefix")
        ls.add_argument(
            "path", nargs="?", default=None, help="a directory (the root if omitted)"
        )
        ls.add_argument("--format", choices=["text", "json"], default="text")
        cat = repo.add_parser("cat", help="write one file to standard output")
        cat.add_argument("identifier", help="pk, uuid or uuid prefix")
        cat.add_argument("path", help="a file of the node, e.g. aiida.out")
        dump = repo.add_parser("dump", help="copy all files into a local folder")
        dump.add_argument("identifier", help="pk, uuid or uuid prefix")
        dump.add_argument("destination", type=Path, help="a new or empty local folder")
        graph = actions.add_parser(
            "graph", help="draw a node's provenance neighbourhood (Graphviz)"
        )
        graph.add_argument("identifier", help="pk, uuid or uuid prefix")
        graph.add_argument(
            "--depth", type=int, default=1, help="links to follow (default 1)"
        )
        direction = graph.add_mutually_exclusive_group()
        direction.add_argument(
            "--ancestors", action="store_true", help="only what led to the node"
        )
        direction.add_argument(
            "--descendants", action="store_true", help="only what came from it"
        )
        graph.add_argument(
            "--link-types", help="comma-separated link types (default: all)"
        )
        graph.add_argument("--format", choices=["svg", "png", "dot"], default="svg")
        graph.add_argument(
            "-o", "--output", type=Path, help="file to write (default graph_PK.FORMAT)"
        )

        export = actions.add_parser(
            "export", help="write a StructureData or BandsData to a file"
        )
        export.add_argument("identifier", help="pk, uuid or uuid prefix")
        export.add_argument(
            "--format",
            required=True,
            help="StructureData: cif, xyz, xsf; BandsData: png, svg, json",
        )
        export.add_argument(
            "-o", "--output", type=Path, help="file to write (default: standard output)"
        )
        for leaf in (show, delete, ls, cat, dump, graph, export):
            # Also accepted after the action (`node delete 5 -v 0`); absent,
            # the value given before it (or the default) stands.
            leaf.add_argument(
                "-v",
                "--verbosity",
                type=int,
                choices=[0, 1, 2, 3],
                default=argparse.SUPPRESS,
                help="0 silent, 1 normal, 2 verbose, 3 very verbose",
            )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        try:
            if action == "repo":
                getattr(self, f"repo_{options['repo_action']}")(**options)
            else:
                getattr(self, action)(**options)
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from None

    def show(self, *, identifier: str, format: str, **options: Any) -> None:
        node = services.node_get(identifier=identifier)
        incoming, outgoing = services.node_links(node=node)
        data = {
            "id": node.pk,
            "uuid": str(node.uuid),
            "node_type": node.node_type,
            "process_type": node.process_type,
            "label": node.label,
            "description": node.description,
            "ctime": format_time(node.ctime),
            "mtime": format_time(node.mtime),
            "user": node.user.get_username(),
            "computer": node.dbcomputer.label if node.dbcomputer_id else None,
            # Comments and logs are other apps' rows that point at the node.
            "comments": node.dbcomments.count(),
            "logs": node.dblogs.count(),
            # PostgreSQL gives jsonb keys in its own order, SQLite as they
            # were written: sorted, both print the same.
            "attributes": sorted_keys(node.attributes),
            "extras": sorted_keys(node.extras),
            "incoming": [
                {"id": link.input_id, "label": link.label, "type": link.type}
                for link in incoming
            ],
            "outgoing": [
                {"id": link.output_id, "label": link.label, "type": link.type}
                for link in outgoing
            ],
        }
        if format == "json":
            self.stdout.write(json.dumps(data, indent=2))
            return
        for key in ("id", "uuid", "node_type", "process_type", "label", "ctime"):
            self.stdout.write(f"{key:<13} {data[key]}")
        for key in ("user", "computer", "comments", "logs"):
            self.stdout.write(f"{key:<13} {data[key]}")
        for key in ("attributes", "extras"):
            self.stdout.write(f"{key:<13} {json.dumps(data[key], sort_keys=True)}")
        for direction in ("incoming", "outgoing"):
            self.stdout.write(f"{direction} links:")
            for link in data[direction]:
                self.stdout.write(
                    f"  {link['type']:<11} {link['label']:<20} {link['id']}"
                )

    def delete(
        self,
        *,
        identifiers: list[str],
        dry_run: bool,
        force: bool,
        format: str,
        create_forward: bool,
        call_calc_forward: bool,
        call_work_forward: bool,
        **options: Any,
    ) -> None:
        pks = [services.node_get(identifier=item).pk for item in identifiers]
        rules = {
            "create_forward": create_forward,
            "call_calc_forward": call_calc_forward,
            "call_work_forward": call_work_forward,
        }
        found = services.delete_nodes(pks, dry_run=True, **rules)
        dependents = services.deletion_dependents(found)
        if dry_run:
            self.report(found, format, verb="would delete", dependents=dependents)
            return
        if not force:
            self.confirm(found, dependents)
        deleted = services.delete_nodes(pks, dry_run=False, **rules)
        self.report(deleted, format, verb="deleted", dependents=dependents)

    def report(
        self, pks: set[int], format: str, *, verb: str, dependents: dict[str, int]
    ) -> None:
        ordered = sorted(pks)
        if format == "json":
            self.stdout.write(
                json.dumps({"action": verb, "nodes": ordered, "also": dependents})
            )
            return
        if self.verbosity == 0:
            return
        if self.verbosity >= 2:
            for chunk in bulk.chunked(ordered[:1000]):
                for node in DbNode.objects.filter(pk__in=chunk).order_by("pk"):
                    self.stdout.write(f"  {node}")
        self.stdout.write(
            f"{verb.capitalize()} {len(ordered)} nodes: "
            + " ".join(map(str, ordered[:50]))
            + (" ..." if len(ordered) > 50 else "")
        )
        also = ", ".join(f"{count} {what}" for what, count in dependents.items())
        if also:
            self.stdout.write(f"  with their {also}")

    def confirm(self, pks: set[int], dependents: dict[str, int]) -> None:
        stdin = sys.stdin
        if stdin is None or not stdin.isatty():
            raise CommandError(
                f"refusing to delete {len(pks)} nodes without confirmation: "
                "no terminal to ask on; pass --force (or --dry-run to look first)"
            )
        self.report(pks, "text", verb="will delete", dependents=dependents)
        answer = input("Delete them? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise CommandError("deletion cancelled; nothing was deleted")

    def graph(
        self,
        *,
        identifier: str,
        depth: int,
        ancestors: bool,
        descendants: bool,
        link_types: str | None,
        format: str,
        output: Path | None,
        **options: Any,
    ) -> None:
        from pictures import services as pictures

        node = services.node_get(identifier=identifier)
        provenance = pictures.node_graph(
            node=node,
            depth=depth,
            ancestors=not descendants,
            descendants=not ancestors,
            link_types=link_types,
        )
        content = pictures.graph_render(provenance, format)
        output = output or Path(f"graph_{node.pk}.{format}")
        write_file(output, content)
        if self.verbosity:
            self.stdout.write(
                f"Wrote {output}: {len(provenance.nodes)} nodes, "
                f"{len(provenance.edges)} links"
                + (" (cut at the node limit)" if provenance.truncated else "")
            )

    def export(
        self, *, identifier: str, format: str, output: Path | None, **options: Any
    ) -> None:
        from pictures import services as pictures

        node = services.node_get(identifier=identifier)
        download = pictures.node_download(node=node, fmt=format)
        if output is None:
            self.write_bytes(download.content)
            return
        write_file(output, download.content)
        if self.verbosity:
            self.stdout.write(
                f"Wrote {output} ({format}, {len(download.content)} bytes)"
            )

    def write_bytes(self, content: bytes) -> None:
        binary = getattr(self.stdout, "buffer", None)
        if binary is not None:
            self.stdout.flush()
            binary.write(content)
            binary.flush()
        else:
            self.stdout.write(content.decode(errors="replace"), ending="")

    def repo_ls(
        self, *, identifier: str, path: str | None, format: str, **options: Any
    ) -> None:
        node = services.node_get(identifier=identifier)
        tree = services.node_repository(node=node)
        entries = [
            {"name": entry.name, "type": "directory" if entry.is_dir() else "file"}
            for entry in tree.list_objects(path)
        ]
        if format == "json":
            self.stdout.write(json.dumps(entries))
            return
        for entry in entries:
            suffix = "/" if entry["type"] == "directory" else ""
            self.stdout.write(entry["name"] + suffix)

    def repo_cat(self, *, identifier: str, path: str, **options: Any) -> None:
        node = services.node_get(identifier=identifier)
        with services.node_file_open(node=node, path=path) as handle:
            content = handle.read()
        self.write_bytes(content)

    def repo_dump(self, *, identifier: str, destination: Path, **options: Any) -> None:
        node = services.node_get(identifier=identifier)
        if destination.exists() and (
            not destination.is_dir() or any(destination.iterdir())
        ):
            raise CommandError(f"{destination} exists and is not an empty folder")
        require_parent_folder(destination)
        # The repository takes absolute local paths only, as aiida-core's does.
        services.node_repository(node=node).copy_tree(destination.absolute())
        self.stdout.write(f"Copied the files of node {node.pk} to {destination}")


def require_parent_folder(path: Path) -> None:
    """Refuse ``path`` whose folder does not exist, as ``archive export``
    does without ``--parents``: a mistyped folder is no new tree of folders.

    :raises CommandError: the parent folder of ``path`` is missing.
    """
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(f"folder {folder} does not exist; create it first")


def write_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path``; a folder that does not exist is an error."""
    require_parent_folder(path)
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
