"""Reading LoadGen's summary and trace: verdicts, reasons, percentiles in seconds, per-query latencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.scenarios.loadgen_logs import invalid_reasons, parse_summary, query_latencies_ns

# Excerpts in LoadGen 6.0's exact layout (bullets wrap onto continuation lines).
SINGLE = """================================================
MLPerf Results Summary
================================================
SUT name : PySUT
Scenario : SingleStream
Mode     : PerformanceOnly
90.0th percentile latency (ns) : 2210410
Result is : VALID
  Min duration satisfied : Yes
  Min queries satisfied : Yes
  Early stopping satisfied: Yes
Early Stopping Result:
 * Processed at least 64 queries (460).
 * Would discard 30 highest latency queries.
 * Early stopping 90.0th percentile estimate: 2253534
 * Not enough queries processed for 99.0th percentile
 early stopping estimate (would need to process at
 least 662 total queries).

================================================
Additional Stats
================================================
QPS w/ loadgen overhead         : 458.58
QPS w/o loadgen overhead        : 460.45

Min latency (ns)                : 2039046
Mean latency (ns)               : 2171812
50.00 percentile latency (ns)   : 2101999
99.00 percentile latency (ns)   : 4761736

================================================
Test Parameters Used
================================================
samples_per_query : 1
min_duration (ms): 1000
"""

SERVER_INVALID = """SUT name : PySUT
Scenario : Server
Mode     : PerformanceOnly
Completed samples per second    : 469.29
Result is : INVALID
  Performance constraints satisfied : NO
  Min duration satisfied : Yes
  Min queries satisfied : Yes
  Early stopping satisfied: NO
Recommendations:
 * Reduce target QPS to improve latency.
Early Stopping Result:
 * Run unsuccessful.
 * Processed 1982 queries.
 * Would need to run at least 206772 more queries,
 with the run being successful if every additional
 query were under latency.

Additional Stats
Scheduled samples per second : 1980.98
99.00 percentile latency (ns)   : 3193592726
"""


def test_single_stream_summary_in_si_units() -> None:
    s = parse_summary(SINGLE)
    assert s["valid"] is True and s["result"] == "VALID" and s["scenario"] == "SingleStream"
    assert s["checks"] == {"min_duration": True, "min_queries": True, "early_stopping": True}
    assert s["headline_percentile"] == "p90"
    assert s["latency_s"]["p90"] == pytest.approx(2.21041e-3)
    assert s["latency_s"]["p50"] == pytest.approx(2.101999e-3)
    assert s["latency_s"]["mean"] == pytest.approx(2.171812e-3)
    assert s["qps_with_loadgen_overhead"] == 458.58 and s["qps_without_loadgen_overhead"] == 460.45
    assert s["early_stopping_estimate_s"] == {"p90": pytest.approx(2.253534e-3)}
    # the wrapped bullet is one line again
    assert s["early_stopping"][-1].startswith("Not enough queries processed for 99.0th percentile early stopping")
    assert s["early_stopping"][-1].endswith("least 662 total queries).")
    assert s["settings"] == {"samples_per_query": 1, "min_duration (ms)": 1000}
    assert invalid_reasons(s) == []


def test_server_invalid_names_loadgens_reasons() -> None:
    s = parse_summary(SERVER_INVALID)
    assert s["valid"] is False
    assert s["checks"]["performance_constraints"] is False and s["checks"]["min_duration"] is True
    assert s["completed_samples_per_s"] == 469.29 and s["scheduled_samples_per_s"] == 1980.98
    reasons = invalid_reasons(s)
    assert reasons == [
        "Performance constraints satisfied: NO",
        "Early stopping satisfied: NO",
        "Reduce target QPS to improve latency.",
    ]
    assert "Would need to run at least 206772 more queries" in s["early_stopping"][2]


def test_text_without_a_verdict_is_refused() -> None:
    with pytest.raises(ValueError, match="not a LoadGen summary"):
        parse_summary("SUT name : PySUT\nScenario : Server\n")


def test_trace_gives_one_latency_per_query_the_slowest_sample(tmp_path: Path) -> None:
    def sample(seq: int, query: int, ns: int) -> str:
        return (
            f'{{"name":"Sample","cat":"default","ph":"b","pid":1,"id":{seq},"ts":1.0,"args":{{"sample_seq":{seq},'
            f'"query_seq":{query},"sample_idx":3,"issue_start_ns":0,"complete_ns":{ns}}}}},'
        )

    lines = [
        '{"traceEvents":[',
        sample(2, 1, 700),  # written out of order: the query order must come from query_seq
        sample(0, 0, 500),
        sample(1, 0, 900),
        '{"name":"Sample","cat":"default","ph":"e", "pid":1,"id":0,"ts":2.0},',
        '{"name":"QuerySamplesComplete","ph":"X","pid":1,"tid":1,"ts":2.0,"dur":3.0,"args":{}},',
        sample(3, 1, 650),
        "]}",
    ]
    trace = tmp_path / "mlperf_log_trace.json"
    trace.write_text("\n".join(lines))
    assert query_latencies_ns(trace) == [900, 700]
