"""The HTML report in a real headless Chromium (Debian's, driven by Playwright; never a downloaded browser).

Checks what a user would see: the page loads offline with no console error, every chart is drawn (SVG
marks present), a model called ``<script>alert(1)</script>`` shows as text and opens no dialog, and the
tables sort when a header is clicked. CI installs ``chromium`` (apt) and ``playwright`` (pip).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgebench.records import RunRecord
from tests.unit.report_records import HOSTILE, suite

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("EDGEBENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no `playwright install`)")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH: apt-get install -y chromium (or set EDGEBENCH_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fake-backend records plus one real ONNX Runtime run, rendered by the CLI's own code path."""
    from tests.conftest import make_onnx, quick_spec, run_inline

    folder = tmp_path_factory.mktemp("browser")
    model = make_onnx(folder / "tiny.onnx")
    records: list[RunRecord] = suite(model)
    real = run_inline(quick_spec(model, processes=1, min_time_s=0.05, min_iters=20))
    assert real.status == "ok" and real.spec.backend == "onnxruntime"
    from edgebench.stores import open_store

    db = folder / "r.db"
    store = open_store(db)
    for r in [*records, real]:
        store.put(r)
    out = folder / "report.html"
    from edgebench.cli.report import render
    from edgebench.reporters.document import gather

    out.write_text(render("html", gather(open_store(db, read_only=True), [])), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def loaded(browser: Any, report_file: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    page.goto(report_file.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.wait_for_timeout(300)  # let a late dialog or error surface before anyone looks
    yield page, problems, requests
    page.close()


def test_page_loads_offline_without_errors(loaded: tuple[Any, list[str], list[str]]) -> None:
    page, problems, requests = loaded
    assert problems == [] and requests == []
    assert page.title() == "edgebench report"


def test_every_chart_is_drawn(loaded: tuple[Any, list[str], list[str]]) -> None:
    page = loaded[0]
    charts = page.eval_on_selector_all(".chart", "els => els.map(e => e.id)")
    assert {"chart-latency", "chart-pareto", "chart-size", "chart-compute", "chart-ops-0", "chart-roofline-0"} <= set(
        charts
    )
    marks = {
        "chart-latency": ".violinlayer path",
        "chart-pareto": ".scatterlayer .point",
        "chart-size": ".barlayer path",
        "chart-compute": ".barlayer path",
        "chart-ops-0": ".barlayer path",
        "chart-roofline-0": ".scatterlayer .point",
    }
    for chart, selector in marks.items():
        assert page.locator(f"#{chart} svg.main-svg").count() >= 1, chart
        assert page.locator(f"#{chart} {selector}").count() >= 2, chart  # drawn marks, not an empty frame


def test_hostile_model_name_is_text(loaded: tuple[Any, list[str], list[str]]) -> None:
    page = loaded[0]
    cells = page.locator("td", has_text=HOSTILE)
    assert cells.count() >= 2 and cells.first.inner_text() == HOSTILE  # Bench and Profiling tables
    ticks = page.eval_on_selector_all("#chart-latency .xtick text", "els => els.map(e => e.textContent)")
    assert any(HOSTILE in t for t in ticks)  # the chart label too shows the name, not markup
    assert page.evaluate("document.querySelectorAll('script').length") == 3  # nothing injected one


def test_tables_sort_on_click(loaded: tuple[Any, list[str], list[str]]) -> None:
    page = loaded[0]
    table = page.locator("#bench + .wrap table")
    header = table.locator("th", has_text="Latency (ms/call)")
    col = page.evaluate("h => Array.prototype.indexOf.call(h.parentNode.children, h)", header.element_handle())

    def latencies() -> list[float]:
        cells = table.locator(f"tbody tr td:nth-child({col + 1})").all_inner_texts()
        return [float(c) for c in cells]

    original = latencies()
    header.click()
    assert latencies() == sorted(original) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert latencies() == sorted(original, reverse=True) and header.get_attribute("aria-sort") == "descending"
    model_header = table.locator("th", has_text="Model").first
    model_header.click()
    names = table.locator("tbody tr td:nth-child(1)").all_inner_texts()
    expected = page.evaluate("n => n.slice().sort((a, b) => a.localeCompare(b))", names)  # text columns: locale order
    assert names == expected and len(set(names)) > 1
