"""The HTML report without a browser: escaping, the embedded data, which charts exist and what they hold."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest

from edgebench.errors import UsageError
from edgebench.records import RunRecord
from edgebench.reporters import html
from edgebench.reporters.document import ReportInput
from tests.unit.report_records import HOSTILE, suite

NASTY = ["</script><script>alert(2)</script>", "<!--", "<img src=x onerror=alert(3)>", "a&b", "\u2028\u2029", "\"'"]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[RunRecord]:
    from tests.conftest import make_onnx

    return suite(make_onnx(tmp_path_factory.mktemp("m") / "tiny.onnx"))


@pytest.fixture(scope="module")
def page(records: list[RunRecord]) -> str:
    return html.report(ReportInput(records=tuple(records), source="<db>"))


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each script element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def figures(page: str) -> list[dict[str, Any]]:
    parsed = parse(page)
    data_index = next(
        i for i, (t, a) in enumerate(t for t in parsed.tags if t[0] == "script") if a.get("id") == "eb-data"
    )
    payload: dict[str, Any] = json.loads(parsed.scripts[data_index])
    return payload["figures"]


@pytest.mark.parametrize("text", NASTY)
def test_json_for_script_is_inert_and_round_trips(text: str) -> None:
    encoded = html.json_for_script({"name": text, "list": [text]})
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert "\u2028" not in encoded and "\u2029" not in encoded
    assert json.loads(encoded) == {"name": text, "list": [text]}


def test_hostile_names_never_become_markup(records: list[RunRecord]) -> None:
    evil = [replace(r, spec=replace(r.spec, model=NASTY[i % len(NASTY)]), model=None) for i, r in enumerate(records)]
    evil.append(replace(records[0], environment=replace(records[0].environment, hostname=NASTY[2])))
    parsed = parse(html.report(ReportInput(records=tuple(evil), selection=NASTY[0], source=NASTY[2])))
    assert [a.get("type") for t, a in parsed.tags if t == "script"] == [None, "application/json", None]
    assert not [t for t, _ in parsed.tags if t in ("img", "iframe", "object")]
    assert not [(t, k) for t, a in parsed.tags for k in a if k.startswith("on")]  # no event handler attributes
    visible = "".join(parsed.text)
    assert NASTY[2] in visible and NASTY[0] in visible  # shown as text


def test_page_has_the_charts_and_tables(page: str) -> None:
    ids = [f["id"] for f in figures(page)]
    assert ids == ["chart-latency", "chart-pareto", "chart-size", "chart-compute", "chart-ops-0", "chart-roofline-0"]
    parsed = parse(page)
    assert sum(1 for t, a in parsed.tags if t == "table" and a.get("class") == "sortable") >= 6
    csp = next(a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in (csp or "") and "unsafe-eval" not in (csp or "")


def test_latency_violins_hold_the_records_own_samples(page: str, records: list[RunRecord]) -> None:
    (latency,) = [f for f in figures(page) if f["id"] == "chart-latency"]
    traces = latency["data"]
    assert [t["type"] for t in traces] == ["violin"] * 4  # the failed record has no samples
    ns = sorted(records[0].measurements.latencies_ns)  # type: ignore[union-attr]
    assert traces[0]["y"] == [round(v / 1e6, 6) for v in ns]  # fewer than MAX_POINTS: every sample
    assert HOSTILE not in json.dumps(latency) and "&lt;script&gt;" in traces[2]["name"]  # Plotly shows it as text


def test_many_samples_are_thinned_to_exact_quantiles() -> None:
    samples = list(range(10_000, 0, -1))
    q = html._quantiles(samples, 101)
    assert len(q) == 101 and q[0] == 1 and q[-1] == 10_000 and 5000 <= q[50] <= 5001  # min, median, max kept
    assert q == sorted(q) and len(set(q)) == 101


def test_pareto_front_is_the_accurate_and_fast_records(page: str) -> None:
    (pareto,) = [f for f in figures(page) if f["id"] == "chart-pareto"]
    runs, front = pareto["data"]
    assert len(runs["x"]) == 3  # only records with an accuracy
    # INT8 (0.5 ms, 74 %) and FP32 (1 ms, 75 %) are on the front; the 2 ms, 50 % one is dominated
    assert front["y"] == [74.0, 75.0] and front["x"][0] < front["x"][1]


def test_pareto_absent_without_accuracy(records: list[RunRecord]) -> None:
    plain = tuple(replace(r, accuracy=None) for r in records)
    out = html.report(ReportInput(records=plain))
    assert "no selected record has an accuracy" in out and "chart-pareto" not in [f["id"] for f in figures(out)]


def test_per_op_breakdown_and_roofline(page: str) -> None:
    by_id = {f["id"]: f for f in figures(page)}
    ops = by_id["chart-ops-0"]["data"][0]
    assert ops["y"][-1] == "conv1 (Conv)" and ops["x"][-1] == pytest.approx(0.4)  # slowest on top, in ms
    assert len(ops["y"]) == 3  # the malformed op is dropped, not plotted as zero
    roof = by_id["chart-roofline-0"]
    (points,) = roof["data"]  # no platform record: no roof line, and the title says why
    assert points["x"] == pytest.approx([50.0, 0.5]) and points["y"] == pytest.approx([500.0, 25.0])
    assert "run `edgebench platform`" in roof["layout"]["title"]["text"]


def test_roofline_draws_the_measured_roof(records: list[RunRecord]) -> None:
    import edgebench
    from edgebench.platform.microbench import PeakMeasurement

    def peak(name: str, unit: str, value: float) -> PeakMeasurement:
        return PeakMeasurement(name, "fp32", "measured", value, unit, 1, 3, 0.1, "test")

    platform = replace(
        edgebench.characterize(quick=True), peaks=(peak("fp32_matmul", "FLOP/s", 100e9), peak("stream", "B/s", 10e9))
    )
    host = records[2].environment.hostname
    out = html.report(ReportInput(records=(records[2],), platforms={host: platform}))
    (roof,) = [f for f in figures(out) if f["id"] == "chart-roofline-0"]
    line = roof["data"][1]
    assert max(line["y"]) == pytest.approx(100.0)  # the compute roof, GFLOP/s
    assert line["y"][0] == pytest.approx(10e9 * line["x"][0] / 1e9)  # the bandwidth slope below the ridge


def test_missing_plotly_names_the_extra(monkeypatch: pytest.MonkeyPatch, records: list[RunRecord]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "plotly" else real(name, *a))
    with pytest.raises(UsageError, match="needs the plotly package") as info:
        html.report(ReportInput(records=tuple(records)))
    assert "edgebench[report]" in (info.value.hint or "")


def test_sorting_script_and_tables_are_present(page: str) -> None:
    assert re.search(r"table\.sortable", page) and "aria-sort" in page
