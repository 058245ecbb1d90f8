"""Run the registered workloads on a scratch database and repository."""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import pkgutil
import platform
import sys
import tempfile
from pathlib import Path

from bench.aiida_scripts.memory import peak_rss_mib
from bench.registry import SCALES, WORKLOADS, Timing, Workload, fresh_tables

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    f"{'name':<34} {'n':>8} {'seconds':>9} {'rate/s':>12} {'ratio':>7} "
    f"{'peak MiB':>8}  reference"
)


def discover() -> None:
    import bench.workloads

    for module in pkgutil.iter_modules(bench.workloads.__path__):
        importlib.import_module(f"bench.workloads.{module.name}")


def prepare_environment(workdir: Path, database_url: str | None) -> None:
    """Point Django at a scratch database and repository before it starts."""
    os.environ["AIIDASITE_DATA_DIR"] = str(workdir / "data")
    os.environ["AIIDASITE_REPOSITORY_PATH"] = str(workdir / "data" / "repository")
    os.environ.pop("DATABASE_URL", None)
    # Measured as served: DEBUG keeps a log of every query, which costs time.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiidasite.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection

    if connection.vendor == "postgresql":
        # Earlier runs leave dead rows behind in a reused database.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def format_row(name: str, n: int, timing: Timing) -> str:
    rate = n / timing.seconds if timing.seconds else float("inf")
    ratio = ""
    if timing.reference_seconds:
        # Above 1.0 means faster than the reference.
        ratio = f"{timing.reference_seconds / timing.seconds:.2f}x"
    return (
        f"{name:<34} {n:>8} {timing.seconds:>9.3f} {rate:>12,.0f} {ratio:>7}"
        f" {peak_rss_mib():>8,.0f}  {timing.reference}"
    )


def run(workloads: list[Workload], scale: str, workdir: Path) -> list[str]:
    rows = []
    print(HEADER, flush=True)
    for item in workloads:
        n = item.sizes[scale]
        scratch = workdir / item.name
        scratch.mkdir(parents=True, exist_ok=True)
        if item.needs_db:
            fresh_tables()
        timing = item.fn(n, scratch)
        row = format_row(item.name, n, timing)
        print(row, flush=True)
        rows.append(row)
    return rows


def append_results(rows: list[str], scale: str, database: str) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n## {stamp} — scale {scale}, {database}, {machine}\n\n```\n"
            + HEADER
            + "\n"
            + "\n".join(rows)
            + "\n```\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only workloads whose name starts with NAME (repeatable)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="run on this database instead of a scratch SQLite file "
        "(its tables are written to: use a dedicated database)",
    )
    parser.add_argument("--list", action="store_true", help="list workloads and exit")
    parser.add_argument(
        "--record", action="store_true", help="append the figures to bench/RESULTS.md"
    )
    args = parser.parse_args(argv)

    discover()
    selected = [
        w
        for name, w in sorted(WORKLOADS.items())
        if not args.only or any(name.startswith(prefix) for prefix in args.only)
    ]
    if args.list:
        for w in selected:
            print(f"{w.name:<34} {w.sizes}  {w.description}")
        return 0
    if not selected:
        print(f"no workload matches {args.only}", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="aiidasite-bench-") as tmp:
        workdir = Path(tmp)
        prepare_environment(workdir, args.database_url)
        rows = run(selected, args.scale, workdir)
    if args.record:
        database = "PostgreSQL" if args.database_url else "SQLite"
        append_results(rows, args.scale, database)
    return 0
