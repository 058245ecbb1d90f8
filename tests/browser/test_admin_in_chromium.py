"""The admin's pictures in a real browser: Debian's Chromium driven by
Playwright against a live server. Skipped, with the reason, where Chromium
or Playwright is missing. Screenshots go to pytest's temporary folder."""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path

import pytest
from django.utils import timezone

from nodes import demo
from nodes.models import DbNode

CHROMIUM = Path(os.environ.get("AIIDASITE_CHROMIUM", "/usr/bin/chromium"))
# Offline and quiet: no first-run pages, updates, sync or QUIC probes.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed"
)
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.is_file() and shutil.which("chromium") is None,
        reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def site(django_user_model, monkeypatch) -> dict[str, DbNode]:
    # Playwright's synchronous API keeps an event loop in this thread; the
    # ORM calls below run before it starts, the server answers in its own.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    admin = django_user_model.objects.create_superuser(
        username="admin", password="admin"
    )
    made = demo.demo_graph_create(
        user=admin,
        size=demo.UNIT_SIZE,
        now=timezone.now() - datetime.timedelta(hours=1),
    )
    return {name: DbNode.objects.get(pk=pks[0]) for name, pks in made.items()}


@pytest.fixture
def page(live_server, site, tmp_path):
    executable = CHROMIUM if CHROMIUM.is_file() else Path(shutil.which("chromium"))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=FLAGS
        )
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.goto(f"{live_server.url}/admin/login/")
        tab.fill("#id_username", "admin")
        tab.fill("#id_password", "admin")
        tab.click("input[type=submit]")
        tab.wait_for_url(f"{live_server.url}/admin/")
        yield tab
        browser.close()


def open_node(page, live_server, node: DbNode, shots: Path, name: str) -> None:
    page.goto(f"{live_server.url}/admin/nodes/dbnode/{node.pk}/change/")
    page.screenshot(path=shots / f"{name}.png", full_page=True)


def test_graph_structure_bands_and_processes_render(page, live_server, site, tmp_path):
    workchain, structure, bands = site["workchain"], site["structure"], site["bands"]

    open_node(page, live_server, workchain, tmp_path, "workchain")
    graph = page.locator("#graph-panel svg")
    graph.wait_for()
    assert graph.locator("g.node").count() == 9
    assert graph.bounding_box()["width"] > 300
    assert "PwBandsWorkChain" in graph.text_content()
    assert page.locator("#process-panel .pictures-state").inner_text() == "Finished"
    # A click on a node of the graph opens that node's page.
    graph.locator("g.node", has_text=f"StructureData ({structure.pk})").locator(
        "a"
    ).click()
    page.wait_for_url(f"**/admin/nodes/dbnode/{structure.pk}/change/")

    page.screenshot(path=tmp_path / "structure.png", full_page=True)
    panel = page.locator("#structure-panel")
    assert "Structure Si2" in panel.inner_text()
    assert page.locator("#sites tbody tr").count() == 2
    assert "60.00, 60.00, 60.00°" in panel.inner_text()

    open_node(page, live_server, bands, tmp_path, "bands")
    plot = page.locator("#bands-panel img")
    plot.wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('#bands-panel img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert plot.evaluate("img => img.naturalWidth") >= 400

    page.goto(f"{live_server.url}/admin/processes/processnode/")
    page.screenshot(path=tmp_path / "processes.png", full_page=True)
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 4
    text = page.locator("#result_list").inner_text()
    assert "PwBandsWorkChain" in text
    assert "get_explicit_kpoints_path" in text
    assert text.count("Finished") == 4
