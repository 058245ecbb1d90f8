"""The REST API as people use it: served by gunicorn, hit by concurrent clients.

Both sites serve the same generated archive (see ``bench.workloads.archives``):
ours imported into the scratch database, aiida-core 2.9.4's REST API
(``aiida-core[rest]``) with the archive imported into a fresh profile of its
own. Each runs under gunicorn with the same number of sync workers; a fixed
number of client threads, each with one keep-alive connection, send the same
number of requests to the route both sites serve. A line gives requests/s and
the ratio to aiida-core's, and notes both sites' p50 and p99 latencies.

The servers start with the first ``api.*`` workload and stop when the run
ends. Without aiida-core (or gunicorn in its environment) the lines carry no
ratio.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.aiida_reference import ROOT, SCRIPTS, aiida_rest_python
from bench.registry import Timing, fresh_tables, workload
from bench.workloads.archives import write_archive

WORKERS = 2
CLIENTS = 4
# Nodes of the served graph per request a route is sent.
NODES_PER_REQUEST = 10
PAGE_SIZE = 100


@dataclass
class Request:
    path: str
    method: str = "GET"
    body: Any = None


@dataclass
class Site:
    base: str
    process: subprocess.Popen
    requests: dict[str, Request] = field(default_factory=dict)


@dataclass
class Sites:
    ours: Site
    aiida: Site | None


_SITES: Sites | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(python: Path | str, app: str, env: dict[str, str], cwd: Path) -> Site:
    port = free_port()
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    atexit.register(stop, process)
    return Site(base=f"http://127.0.0.1:{port}", process=process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def fetch(site: Site, request: Request) -> tuple[int, bytes]:
    parts = urlsplit(site.base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        body = None if request.body is None else json.dumps(request.body)
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(request.method, request.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_up(site: Site, path: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if site.process.poll() is not None:
            error = site.process.stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"the server at {site.base} stopped:\n{error}")
        try:
            status, _ = fetch(site, Request(path))
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server at {site.base} did not answer {path} in time")


def serve_ours(workdir: Path) -> Site:
    env = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1"}
    env.setdefault("SECRET_KEY", "benchmark-only-key")
    site = gunicorn(sys.executable, "aiidasite.wsgi", env, ROOT)
    wait_until_up(site, "/api/v1/")
    return site


def serve_aiida(workdir: Path, archive: Path) -> Site | None:
    python = aiida_rest_python()
    if python is None:
        return None
    env = {**os.environ, "AIIDA_PATH": str(workdir / "aiida-rest")}
    verdi = str(python.with_name("verdi"))
    try:
        for command in (
            [verdi, "presto", "--profile-name", "rest"],
            [verdi, "archive", "import", "--no-import-group", str(archive)],
        ):
            subprocess.run(command, env=env, check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        print(f"aiida-core set-up failed: {exc.stderr[-500:]!r}", file=sys.stderr)
        return None
    site = gunicorn(python, "rest_wsgi:app", env, SCRIPTS)
    wait_until_up(site, "/api/v4/server/")
    return site


def sample(site: Site, path: str) -> Any:
    status, body = fetch(site, Request(path))
    if status != 200:
        raise RuntimeError(f"{site.base}{path} answered {status}: {body[:300]!r}")
    return json.loads(body)


def deep_page(nodes: int) -> int:
    """The page halfway through the node list: the deep page measured."""
    return max(1, nodes // PAGE_SIZE // 2)


def deep_cursor_page(site: Site, page: int) -> str:
    """The node list's ``page``-th page, reached by following ``next``."""
    path = f"/api/v1/nodes/?page_size={PAGE_SIZE}"
    for _ in range(page - 1):
        following = sample(site, path)["next"]
        if not following:
            break
        parts = urlsplit(following)
        path = f"{parts.path}?{parts.query}"
    return path


def routes(sites: Sites, nodes: int) -> None:
    """The requests each site is sent, per route, for the same graph rows."""
    from nodes.models import DbNode

    # A calculation (it has an incoming link) and a result with a file.
    calc = DbNode.objects.filter(node_type__contains="CalcJobNode").order_by("id")[1]
    result = DbNode.objects.filter(node_type__startswith="data.core.dict").exclude(
        repository_metadata={}
    )[0]
    query_limit = 50
    ours = sites.ours.requests
    ours["node_list"] = Request(f"/api/v1/nodes/?page_size={PAGE_SIZE}")
    ours["node_list_deep"] = Request(deep_cursor_page(sites.ours, deep_page(nodes)))
    ours["node_detail"] = Request(f"/api/v1/nodes/{calc.pk}/")
    ours["node_links"] = Request(f"/api/v1/nodes/{calc.pk}/links/incoming/")
    ours["file_download"] = Request(f"/api/v1/nodes/{result.pk}/files/aiida.out")
    ours["statistics"] = Request("/api/v1/statistics/")
    ours["querybuilder"] = Request(
        "/api/v1/querybuilder/",
        "POST",
        {
            "path": [{"entity": "data.core.dict.Dict.", "tag": "dict"}],
            "filters": {"dict": {"attributes.index": {"<": nodes // 2}}},
            "project": {"dict": ["uuid", "attributes.index"]},
            "limit": query_limit,
        },
    )
    if sites.aiida is None:
        return
    theirs = sites.aiida.requests
    theirs["node_list"] = Request(f"/api/v4/nodes/page/1/?perpage={PAGE_SIZE}")
    theirs["node_list_deep"] = Request(
        f"/api/v4/nodes/page/{deep_page(nodes)}/?perpage={PAGE_SIZE}"
    )
    theirs["node_detail"] = Request(f"/api/v4/nodes/{calc.uuid}/")
    theirs["node_links"] = Request(f"/api/v4/nodes/{calc.uuid}/links/incoming/")
    theirs["file_download"] = Request(
        f'/api/v4/nodes/{result.uuid}/repo/contents/?filename="aiida.out"'
    )
    theirs["statistics"] = Request("/api/v4/nodes/statistics/")
    # What aiida-core's QueryBuilder.as_dict() writes for the same query.
    theirs["querybuilder"] = Request(
        "/api/v4/querybuilder/",
        "POST",
        {
            "path": [
                {
                    "entity_type": "data.core.dict.Dict.",
                    "orm_base": "node",
                    "tag": "dict",
                    "joining_keyword": None,
                    "joining_value": None,
                    "edge_tag": None,
                    "outerjoin": False,
                }
            ],
            "filters": {
                "dict": {
                    "node_type": {"like": "data.core.dict.%"},
                    "attributes.index": {"<": nodes // 2},
                }
            },
            "project": {"dict": [{"uuid": {}}, {"attributes.index": {}}]},
            "project_map": {},
            "order_by": [],
            "limit": query_limit,
            "offset": None,
            "distinct": False,
        },
    )


def start(workdir: Path, nodes: int) -> Sites:
    global _SITES
    if _SITES is None:
        workdir.mkdir(parents=True, exist_ok=True)
        archive = workdir / "served.aiida"
        write_archive(archive, nodes, nodes // 10)
        fresh_tables()
        from archives.services import archive_import

        archive_import(str(archive))
        sites = Sites(ours=serve_ours(workdir), aiida=serve_aiida(workdir, archive))
        routes(sites, nodes)
        _SITES = sites
    return _SITES


def hammer(site: Site, request: Request, count: int) -> tuple[float, list[float]]:
    """Send ``request`` ``count`` times over CLIENTS keep-alive connections;
    the wall seconds and each request's latency in seconds.

    :raises RuntimeError: if a response is not 200.
    """
    parts = urlsplit(site.base)
    body = None if request.body is None else json.dumps(request.body)
    headers = {"Content-Type": "application/json"} if body else {}
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    share = [count // CLIENTS + (i < count % CLIENTS) for i in range(CLIENTS)]

    def client(sends: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        mine = []
        try:
            for _ in range(sends):
                begin = time.perf_counter()
                connection.request(request.method, request.path, body, headers)
                response = connection.getresponse()
                response.read()
                mine.append(time.perf_counter() - begin)
                if response.status != 200:
                    failures.append(f"{request.path} answered {response.status}")
                    return
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - begin
    if failures:
        raise RuntimeError(f"{site.base}: {failures[0]}")
    return seconds, latencies


def percentiles(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return f"p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms"


def measure(route: str, count: int, workdir: Path) -> Timing:
    sites = start(workdir.parent / "api", count * NODES_PER_REQUEST)
    ours_request = sites.ours.requests[route]
    hammer(sites.ours, ours_request, CLIENTS * 5)  # warm both workers
    seconds, latencies = hammer(sites.ours, ours_request, count)
    note = f"ours {percentiles(latencies)}"
    reference = None
    if sites.aiida is not None:
        theirs = sites.aiida.requests[route]
        hammer(sites.aiida, theirs, CLIENTS * 5)
        reference, their_latencies = hammer(sites.aiida, theirs, count)
        note += f"; aiida-core {percentiles(their_latencies)}"
    return Timing(
        seconds,
        reference,
        reference=f"aiida-core REST ({note})" if reference else note,
        unit="requests",
    )


def _register(route: str, description: str) -> None:
    def run(count: int, workdir: Path) -> Timing:
        return measure(route, count, workdir)

    run.__doc__ = description
    workload(f"api.{route}", small=200, medium=1_000, large=3_000, needs_db=False)(run)


for _route, _description in (
    ("node_list", "GET the node list's first page (100 nodes)"),
    ("node_list_deep", "GET the node list halfway through (100 nodes)"),
    ("node_detail", "GET one node"),
    ("node_links", "GET a calculation's incoming links"),
    ("file_download", "GET one file of a node"),
    ("statistics", "GET the node statistics"),
    ("querybuilder", "POST a QueryBuilder query (an attribute filter, 50 rows)"),
):
    _register(_route, _description)
