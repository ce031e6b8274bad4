"""Read what MLPerf LoadGen wrote: ``mlperf_log_summary.txt`` (verdict, reasons, percentiles, QPS,
early stopping, the settings it used) and ``mlperf_log_trace.json`` (one latency per sample).

LoadGen's own files are the source of truth: edgebench does not recompute LoadGen's verdict, it
copies it. Numbers become SI units (seconds); the original lines are kept where they explain a
verdict (``invalid_reasons``, ``early_stopping``), because they are what LoadGen users recognise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_NS = 1e-9
_KV = re.compile(r"^\s*(?P<key>[^:*]+?)\s*:\s*(?P<value>.*?)\s*$")
_PERCENTILE = re.compile(r"^(?P<p>\d+(?:\.\d+)?)(?:th)? percentile latency \(ns\)$")
_ESTIMATE = re.compile(r"Early stopping (?P<p>\d+(?:\.\d+)?)th percentile estimate: (?P<ns>\d+)")
_SAMPLE = re.compile(r'"name":"Sample".*?"ph":"b".*?"query_seq":(?P<q>\d+).*?"complete_ns":(?P<ns>\d+)')
# summary keys → result keys (values in the units given by the key's suffix)
_RATES = {
    "QPS w/ loadgen overhead": "qps_with_loadgen_overhead",
    "QPS w/o loadgen overhead": "qps_without_loadgen_overhead",
    "Completed samples per second": "completed_samples_per_s",
    "Scheduled samples per second": "scheduled_samples_per_s",
    "Samples per second": "samples_per_s",
    "Samples per query": "samples_per_query",
}
_CHECKS = {
    "Min duration satisfied": "min_duration",
    "Min queries satisfied": "min_queries",
    "Early stopping satisfied": "early_stopping",
    "Performance constraints satisfied": "performance_constraints",
}
_STATS = {"Min latency (ns)": "min", "Max latency (ns)": "max", "Mean latency (ns)": "mean"}


def parse_summary(text: str, *, accuracy: bool = False) -> dict[str, Any]:
    """The summary's facts as JSON data; raises ValueError when the text has no LoadGen verdict.

    AccuracyOnly runs have no verdict (LoadGen judges performance only): ``result``/``valid`` are None.
    """
    out: dict[str, Any] = {"checks": {}, "latency_s": {}, "settings": {}, "early_stopping": [], "recommendations": []}
    section = "results"
    for block, lines in _blocks(text.splitlines()):
        if block == "Early Stopping Result":
            out["early_stopping"] = lines
            for line in lines:
                match = _ESTIMATE.search(line)
                if match:
                    out.setdefault("early_stopping_estimate_s", {})[f"p{float(match['p']):g}"] = int(match["ns"]) * _NS
            continue
        if block == "Recommendations":
            out["recommendations"] = lines
            continue
        for line in lines:
            section = _section(line, section)
            _parse_line(line, section, out)
    if "result" not in out and not accuracy:
        raise ValueError("no 'Result is' line: not a LoadGen summary")
    out.setdefault("result", None)
    out["valid"] = out["result"] == "VALID" if out["result"] is not None else None
    return out


def _section(line: str, current: str) -> str:
    if line.strip() == "Test Parameters Used":
        return "settings"
    if line.strip() == "Additional Stats":
        return "stats"
    return current


def _parse_line(line: str, section: str, out: dict[str, Any]) -> None:
    match = _KV.match(line)
    if not match:
        return
    key, value = match["key"].strip(), match["value"]
    if section == "settings":
        out["settings"][key] = _number(value)
    elif key == "Result is":
        out["result"] = value
    elif key in ("SUT name", "Scenario", "Mode"):
        out[key.lower().replace(" ", "_")] = value
    elif key in _CHECKS:
        out["checks"][_CHECKS[key]] = value.lower() == "yes"
    elif key in _RATES:
        out[_RATES[key]] = _number(value)
    elif key in _STATS:
        out["latency_s"][_STATS[key]] = int(value) * _NS
    else:
        percentile = _PERCENTILE.match(key)
        if percentile:
            name = f"p{float(percentile['p']):g}"
            if section == "results":
                out["headline_percentile"] = name
            out["latency_s"][name] = int(value) * _NS


def _blocks(lines: Iterable[str]) -> Iterable[tuple[str | None, list[str]]]:
    """Split into plain lines and the bullet blocks ('Early Stopping Result:', 'Recommendations:').

    LoadGen wraps a bullet over several lines (continuations start with a space, no '*'): join them.
    """
    plain: list[str] = []
    name: str | None = None
    bullets: list[str] = []
    for line in lines:
        header = line.strip().rstrip(":")
        if line.strip().endswith(":") and header in ("Early Stopping Result", "Recommendations"):
            if name is not None:
                yield name, bullets
            name, bullets = header, []
            continue
        if name is not None and line.startswith(" ") and line.strip():
            if line.lstrip().startswith("*"):
                bullets.append(line.lstrip()[1:].strip())
            elif bullets:
                bullets[-1] += " " + line.strip()
            continue
        if name is not None:
            yield name, bullets
            name, bullets = None, []
        plain.append(line)
    if name is not None:
        yield name, bullets
    yield None, plain


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def invalid_reasons(summary: dict[str, Any]) -> list[str]:
    """Why LoadGen said INVALID, in its words: the unmet checks, then its recommendations."""
    if summary.get("valid") is not False:
        return []
    names = {v: k for k, v in _CHECKS.items()}
    failed = [f"{names[key]}: NO" for key, ok in summary.get("checks", {}).items() if not ok]
    return failed + list(summary.get("recommendations", []))


def query_latencies_ns(trace: Path) -> list[int]:
    """LoadGen's latency of every query, in issue order: the latest of its samples' completion times.

    The trace holds one ``Sample`` begin event per sample with ``complete_ns`` measured by LoadGen
    from the query's *scheduled* issue time, so queueing in the SUT and LoadGen's own dispatch are in.
    Read line by line: the file is large and only these events matter.
    """
    per_query: dict[int, int] = {}
    with trace.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if '"Sample"' not in line:
                continue
            match = _SAMPLE.search(line)
            if match:
                query, ns = int(match["q"]), int(match["ns"])
                per_query[query] = max(ns, per_query.get(query, 0))
    return [per_query[q] for q in sorted(per_query)]
