"""One self-contained HTML report: tables, charts (Plotly's JS inlined from the plotly package), no network.

Safety, because model names, paths, tags and host names are user strings:
- every string that reaches HTML goes through :func:`html.escape` (tables, headings, notes);
- chart labels are escaped too, because Plotly renders a subset of HTML tags in labels and turns the
  entities back into plain text (so ``<script>`` shows as text);
- the chart data travels as JSON in a ``<script type="application/json">`` element with ``<``, ``>``, ``&``
  and U+2028/9 written as ``\\uXXXX``: no string can close the element or start markup;
- a Content-Security-Policy meta tag forbids any network access (the page must work offline).
"""

from __future__ import annotations

import html
import importlib.util
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.errors import UsageError
from edgebench.records import RunRecord
from edgebench.reporters import fields, markdown

if TYPE_CHECKING:
    from edgebench.platform.report import PlatformReport
    from edgebench.reporters.document import ReportInput

MAX_POINTS = 1000  # per record in the latency chart: quantiles of the sorted samples, so the shape is exact
TOP_OPS = 15
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'"
)

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:1400px;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f5;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.chart{width:100%;min-height:420px}.note{color:#555}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
nav a{margin-right:1rem}.wrap{overflow-x:auto}
"""

# Sorting: numbers (ignoring units, "≥ ", "×", "%") when every non-dash cell of the column is one, else text.
_JS = """
(function(){
  var data = JSON.parse(document.getElementById('eb-data').textContent);
  data.figures.forEach(function(f){
    var el = document.getElementById(f.id);
    if (el) { Plotly.newPlot(el, f.data, f.layout, {displaylogo:false, responsive:true}); }
  });
  function num(t){
    var m = t.replace(/,/g,'').match(/-?\\d+(\\.\\d+)?(e[-+]?\\d+)?/i); return m ? parseFloat(m[0]) : NaN;
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('thead th').forEach(function(th, col){
      th.tabIndex = 0;
      function sort(){
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('thead th').forEach(function(o){ o.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var key = function(r){ return r.cells[col] ? r.cells[col].textContent.trim() : ''; };
        var dash = function(t){ return t === '' || t === '\\u2013'; };
        var numeric = rows.every(function(r){ var t = key(r); return dash(t) || !isNaN(num(t)); });
        rows.sort(function(a, b){
          var x = key(a), y = key(b);
          if (dash(x) || dash(y)) { return dash(x) - dash(y); }
          var c = numeric ? num(x) - num(y) : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function(r){ body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function(e){ if (e.key === 'Enter') { sort(); } });
    });
  });
  document.body.setAttribute('data-ready', '1');
})();
"""


def report(data: ReportInput) -> str:
    """The whole page as one string (a few MB: Plotly's bundle is most of it)."""
    figures: list[dict[str, Any]] = []
    body = [
        "<h1>edgebench report</h1>",
        f"<p class='note'>{len(data.records)} records ({len(data.failed)} failed) · selection: "
        f"{_e(data.selection)} · generated {_e(data.generated_at)}"
        + (f" from <code>{_e(data.source)}</code>" if data.source else "")
        + "</p>",
        "<nav><a href='#charts'>Charts</a><a href='#bench'>Bench Table</a><a href='#profiling'>Profiling</a>"
        "<a href='#optimization'>Optimization</a><a href='#device'>Target Device</a>"
        "<a href='#environments'>Test environments</a></nav>",
        *_charts(data, figures),
        *_tables(data),
    ]
    payload = {"figures": figures}
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            "<title>edgebench report</title>",
            f"<style>{_CSS}</style>",
            f"<script>{plotly_js()}</script>",
            "</head><body>",
            *body,
            f"<script type='application/json' id='eb-data'>{json_for_script(payload)}</script>",
            f"<script>{_JS}</script>",
            "</body></html>",
            "",
        ]
    )


def json_for_script(payload: object) -> str:
    """JSON that is inert inside a script element: nothing in it can close the element or open a comment."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028")):
        text = text.replace(char, escaped)
    return text.replace("\u2029", "\\u2029")


def plotly_js() -> str:
    """plotly.min.js from the installed plotly package, read as a file (the Python package is never imported)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise UsageError(
            "the HTML report needs the plotly package (its JavaScript is inlined into the page)",
            hint="pip install 'edgebench[report]'",
        )
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    try:
        js = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read Plotly's JavaScript at {path}: {exc}", hint="reinstall plotly") from exc
    if "</script" in js.lower():  # would end our script element early; never seen, but never silently
        raise UsageError(f"{path} contains '</script' and cannot be inlined", hint="install another plotly version")
    return js


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


# ---- tables -----------------------------------------------------------------------------------------------


def _tables(data: ReportInput) -> list[str]:
    ok = data.ok
    out = ["<h2 id='bench'>Bench Table</h2>"]
    out.append(_table(markdown.BENCH_COLUMNS, [markdown._bench_row(r) for r in ok]))
    out.append("<h2 id='profiling'>Profiling Metrics</h2>")
    out.append(_table(markdown.PROFILING_COLUMNS, [markdown._profiling_row(r) for r in ok]))
    out.append("<h2 id='optimization'>Optimization</h2>")
    out += _optimization(ok)
    out.append("<h2 id='device'>Target Device</h2>")
    from edgebench.platform.report import TARGET_DEVICE_COLUMNS

    rows = markdown.target_device_rows(data.records, data.platforms)
    out.append(_table(TARGET_DEVICE_COLUMNS, [cells for _, cells in rows]))
    out += [f"<p class='note'>{_e(line)}</p>" for line in markdown.target_notes(data)]
    out.append("<h2 id='environments'>Test environments</h2>")
    for n, group in enumerate(markdown.environment_groups(data.records), 1):
        out.append(f"<h3>Environment {n}</h3>")
        out.append(_table(("Property", "Value"), [list(line) for line in markdown.environment_lines(group)]))
    out += [f"<p class='note'>{_e(line)}</p>" for line in markdown.method_lines(data.records)]
    if data.failed:
        out.append("<h2 id='failed'>Failed runs</h2>")
        rows_failed = [[r.id, r.created_at, fields.model_name(r), r.spec.backend, _error(r)] for r in data.failed]
        out.append(_table(markdown.FAILED_COLUMNS, rows_failed))
    if data.notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in data.notes) + "</ul>")
    return out


def _error(r: RunRecord) -> str:
    return f"{r.error.type}: {r.error.message}" if r.error else "failed"


def _optimization(ok: Sequence[RunRecord]) -> list[str]:
    groups = markdown.optimization_rows(ok)
    if not groups:
        return ["<p class='note'>No model in the selection was measured at two bit widths (e.g. FP32 and INT8).</p>"]
    rows: list[list[str]] = []
    for group in groups:
        baseline = group[0] if fields.precision_rank(fields.bit_width(group[0]))[1].startswith("FP32") else None
        rows += [markdown._optimization_row(r, baseline) for r in group]
    return [
        _table(markdown.OPTIMIZATION_COLUMNS, rows),
        "<p class='note'>Latency vs FP32 divides medians of separate runs; for a decision, measure both "
        "interleaved (<code>edgebench compare --rerun A B</code>).</p>",
    ]


def _table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th scope='col'>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    table = f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<div class='wrap'>{table}</div>"


# ---- charts -----------------------------------------------------------------------------------------------


def _charts(data: ReportInput, figures: list[dict[str, Any]]) -> list[str]:
    ok = [r for r in data.ok if r.measurements is not None and r.measurements.latencies_ns]
    out = ["<h2 id='charts'>Charts</h2>"]
    labels = _labels(ok)
    out.append(_figure(figures, "chart-latency", *_latency_figure(ok, labels)))
    out.append(_pareto(ok, labels, figures))
    out.append("<div class='grid'>")
    out.append(_figure(figures, "chart-size", *_bars(ok, "Model size", "MB", lambda r: fields.size_bytes(r), 1e6)))
    flops = _bars(ok, "Compute per call", "GFLOPs", lambda r: fields.analysis_number(r, "flops"), 1e9)
    out.append(_figure(figures, "chart-compute", *flops))
    out.append("</div>")
    out += _profiles(data, figures)
    return out


def _figure(figures: list[dict[str, Any]], chart_id: str, traces: list[dict[str, Any]], layout: dict[str, Any]) -> str:
    if not traces:
        title = layout.get("title", {}).get("text", "chart")
        return f"<p class='note'>{title}: nothing to plot in the selected records.</p>"
    layout = {"margin": {"t": 50, "r": 20}, **layout}
    figures.append({"id": chart_id, "data": traces, "layout": layout})
    return f"<div class='chart' id='{chart_id}'></div>"


def _labels(records: Sequence[RunRecord]) -> dict[str, str]:
    """One short, unique, escaped label per record: model · backend · threads · batch (+ id when they repeat)."""
    base = {r.id: _run_label(r) for r in records}
    counts: dict[str, int] = {}
    for label in base.values():
        counts[label] = counts.get(label, 0) + 1
    return {rid: _e(label if counts[label] == 1 else f"{label} · {rid[-6:]}") for rid, label in base.items()}


def _run_label(r: RunRecord) -> str:
    threads = f"t{r.spec.threads}" if r.spec.threads else "t-default"
    batch = r.summary.batch if r.summary else r.spec.batch or 1
    return f"{fields.model_name(r)} · {r.spec.backend} · {threads} · b{batch}"


def _latency_figure(
    records: Sequence[RunRecord], labels: Mapping[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    traces = []
    for r in records:
        assert r.measurements is not None
        traces.append(
            {
                "type": "violin",
                "name": labels[r.id],
                "y": [round(v / 1e6, 6) for v in _quantiles(r.measurements.latencies_ns, MAX_POINTS)],
                "box": {"visible": True},
                "meanline": {"visible": True},
                "points": False,
                "hoverinfo": "y+name",
            }
        )
    layout = {
        "title": {"text": f"Latency per call (ms): steady-state samples (≤ {MAX_POINTS} quantiles per record)"},
        "yaxis": {"title": {"text": "ms per call"}, "rangemode": "tozero"},
        "showlegend": False,
    }
    return traces, layout


def _quantiles(samples: Sequence[int], n: int) -> list[int]:
    ordered = sorted(samples)
    if len(ordered) <= n:
        return ordered
    return [ordered[round(i * (len(ordered) - 1) / (n - 1))] for i in range(n)]


def _pareto(records: Sequence[RunRecord], labels: Mapping[str, str], figures: list[dict[str, Any]]) -> str:
    points = [(r, fields.latency_s(r), fields.top(r, 1)) for r in records]
    known = [(r, lat * 1e3, acc * 100) for r, lat, acc in points if lat is not None and acc is not None]
    if not known:
        return (
            "<p class='note'>Pareto accuracy vs latency: no selected record has an accuracy "
            "(measure it with a labelled dataset, e.g. <code>edgebench bench MODEL --data DIR</code>).</p>"
        )
    front, best = [], -math.inf
    for _, lat, acc in sorted(known, key=lambda p: (p[1], -p[2])):
        if acc > best:  # nothing faster is as accurate
            front.append((lat, acc))
            best = acc
    traces = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "runs",
            "x": [p[1] for p in known],
            "y": [p[2] for p in known],
            "text": [labels[p[0].id] for p in known],
            "hovertemplate": "%{text}<br>%{x:.3g} ms · %{y:.1f} %<extra></extra>",
            "marker": {"size": 10},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Pareto front",
            "line": {"shape": "hv", "dash": "dot"},
            "x": [p[0] for p in front],
            "y": [p[1] for p in front],
        },
    ]
    layout = {
        "title": {"text": "Pareto: top-1 accuracy vs latency (up and left is better)"},
        "xaxis": {"title": {"text": "median latency (ms per call)"}},
        "yaxis": {"title": {"text": "top-1 accuracy (%)"}},
    }
    return _figure(figures, "chart-pareto", traces, layout)


def _bars(
    records: Sequence[RunRecord], title: str, unit: str, value: Any, scale: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    seen: dict[str, tuple[str, float]] = {}  # one bar per model file, however many runs it has
    for r in records:
        v = value(r)
        key = r.model.sha256 if r.model else r.spec.model
        if v is not None and key not in seen:
            seen[key] = (_e(fields.model_name(r)), v / scale)
    if not seen:
        return [], {"title": {"text": title}}
    names, values = zip(*seen.values(), strict=True)
    trace = {
        "type": "bar",
        "x": list(names),
        "y": list(values),
        "hovertemplate": f"%{{x}}: %{{y:.3g}} {unit}<extra></extra>",
    }
    return [trace], {"title": {"text": f"{title} ({unit})"}, "yaxis": {"title": {"text": unit}}}


def _profiles(data: ReportInput, figures: list[dict[str, Any]]) -> list[str]:
    out = []
    for n, r in enumerate(x for x in data.ok if fields.profile_ops(x)):
        ops = fields.profile_ops(r)
        label = _e(_run_label(r))
        shown = ops[:TOP_OPS]
        rest = sum(op.time_s for op in ops[TOP_OPS:])
        names = [_e(f"{op.name} ({op.op_type})") for op in shown] + (["other ops"] if rest else [])
        times = [op.time_s * 1e3 for op in shown] + ([rest * 1e3] if rest else [])
        bar = {
            "type": "bar",
            "orientation": "h",
            "x": times[::-1],
            "y": names[::-1],
            "hovertemplate": "%{y}: %{x:.3g} ms<extra></extra>",
        }
        layout = {
            "title": {"text": f"Per-op time (ms per inference): {label}"},
            "margin": {"l": 260},
            "xaxis": {"title": {"text": "ms"}},
        }
        out.append(_figure(figures, f"chart-ops-{n}", [bar], layout))
        out.append(
            _figure(figures, f"chart-roofline-{n}", *_roofline(r, ops, data.platforms.get(r.environment.hostname)))
        )
    return out


def _roofline(
    r: RunRecord, ops: Sequence[fields.OpTime], platform: PlatformReport | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    points = [op for op in ops if op.flops and op.bytes and op.time_s > 0]
    title = f"Roofline: {_e(_run_label(r))}"
    if not points:
        return [], {"title": {"text": f"{title} (the profile has no per-op FLOPs and bytes)"}}
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "ops",
            "x": [op.flops / op.bytes for op in points if op.flops and op.bytes],
            "y": [op.flops / op.time_s / 1e9 for op in points if op.flops],
            "text": [_e(f"{op.name} ({op.op_type})") for op in points],
            "hovertemplate": "%{text}<br>%{x:.3g} FLOP/B · %{y:.3g} GFLOP/s<extra></extra>",
        }
    ]
    roof = _roof(platform)
    if roof is not None:
        peak, bandwidth = roof
        xs = [2.0**k for k in range(-6, 13)]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "measured roof (edgebench platform)",
                "x": xs,
                "y": [min(peak, bandwidth * x) / 1e9 for x in xs],
            }
        )
    else:
        title += " (no platform record with measured peaks: run `edgebench platform`)"
    layout = {
        "title": {"text": title},
        "xaxis": {"type": "log", "title": {"text": "arithmetic intensity (FLOP/byte)"}},
        "yaxis": {"type": "log", "title": {"text": "achieved GFLOP/s"}},
    }
    return traces, layout


def _roof(platform: PlatformReport | None) -> tuple[float, float] | None:
    """(peak FP32 FLOP/s, peak memory B/s) measured by `edgebench platform`, when both were measured."""
    if platform is None:
        return None
    measured = [p for p in platform.peaks if p.state == "measured" and p.value]
    compute = [p.value for p in measured if p.precision == "fp32" and "FLOP" in p.unit.upper() and p.value]
    memory = [p.value for p in measured if p.unit.replace(" ", "") in ("B/s", "bytes/s") and p.value]
    return (max(compute), max(memory)) if compute and memory else None
