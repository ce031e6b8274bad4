"""`edgebench compare`: matching jobs, paired vs unpaired, verdicts, comparability, the CI gate."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgebench._frozen import FrozenMap
from edgebench.engine.compare import compare_records, varying_fields
from edgebench.errors import UsageError
from edgebench.records import RunRecord, Window, new_record_id, record_to_dict, spec_hash
from edgebench.stores import open_store
from tests.cli_helpers import run_cli

TFLITE = Path(__file__).resolve().parents[1] / "data" / "mobilenet_v1_0.25_128_quant.tflite"
S = 1_000_000_000


@pytest.fixture(scope="module")
def base() -> RunRecord:
    from tests.conftest import fake_spec, run_inline

    record = run_inline(fake_spec(TFLITE, min_time_s=0.02, min_iters=60))
    assert record.status == "ok" and record.measurements is not None and record.processes
    return record


def synth(
    base: RunRecord,
    medians_s: list[float],
    *,
    start_s: float,
    step_s: float = 2.0,
    seed: int = 0,
    env: dict[str, object] | None = None,
    **spec: object,
) -> RunRecord:
    """A record with one process per median (200 lognormal samples each), process i at start + i·step."""
    rng = np.random.default_rng(seed)
    samples = [m * np.exp(0.01 * rng.standard_normal(200)) for m in medians_s]
    latencies = tuple(int(x * S) for s in samples for x in s)
    processes, first = [], 0
    for i, s in enumerate(samples):
        t = int((start_s + i * step_s) * S)
        window = Window(t, t + S, t, t + S)
        processes.append(
            replace(
                base.processes[0],
                index=i,
                sample_start=first,
                sample_count=len(s),
                median_s=float(np.median(s)),
                window=window,
            )
        )
        first += len(s)
    assert base.measurements is not None
    span = Window(processes[0].window.start_unix_ns, processes[-1].window.end_unix_ns, 0, 1)  # type: ignore[union-attr]
    measurements = replace(base.measurements, latencies_ns=latencies, window=span)
    new_spec = replace(base.spec, **spec)  # type: ignore[arg-type]
    environment = replace(base.environment, **(env or {}))  # type: ignore[arg-type]
    return replace(
        base,
        id=new_record_id(),
        spec=new_spec,
        spec_hash=spec_hash(new_spec),
        measurements=measurements,
        processes=tuple(processes),
        environment=environment,
    )


def _five(level: float, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(level * np.exp(0.01 * rng.standard_normal(5)))


def test_interleaved_records_are_paired_and_a_20_percent_slowdown_is_slower(base: RunRecord) -> None:
    a = synth(base, _five(1e-3, 1), start_s=1000, step_s=4, threads=1)
    b = synth(base, _five(1.2e-3, 2), start_s=1002, step_s=4, threads=2)
    result = compare_records([a], [b])
    assert result.varying == ("threads",)
    (pair,) = result.pairs
    assert pair.interleaved and pair.test is not None and pair.test.paired
    assert pair.verdict == "slower" and pair.test.ratio == pytest.approx(1.2, rel=0.03)
    assert pair.test.lo is not None and pair.test.lo > 1.1
    assert not result.notes  # interleaved: nothing to warn about
    assert result.regressions(0.05) == [pair] and result.regressions(0.30) == []
    reverse = compare_records([b], [a])
    assert reverse.pairs[0].verdict == "faster" and reverse.regressions(0.0) == []
    throughput = compare_records([a], [b], metric="throughput_ips")
    assert throughput.pairs[0].verdict == "slower" and throughput.pairs[0].test.ratio < 1  # type: ignore[union-attr]
    assert throughput.regressions(0.05)


def test_separate_runs_are_compared_unpaired_and_said_to_be_not_interleaved(base: RunRecord) -> None:
    a = synth(base, _five(1e-3, 1), start_s=1000, threads=1)
    b = synth(base, _five(1.001e-3, 2), start_s=1000 + 600, threads=2)
    result = compare_records([a], [b])
    (pair,) = result.pairs
    assert not pair.interleaved and pair.test is not None and not pair.test.paired
    assert pair.verdict == "not significant"
    assert any("not measured interleaved" in n and "min apart" in n and "--rerun" in n for n in result.notes)


def test_one_process_each_is_never_significant(base: RunRecord) -> None:
    result = compare_records([synth(base, [1e-3], start_s=0, threads=1)], [synth(base, [2e-3], start_s=99, threads=2)])
    assert result.pairs[0].verdict == "not significant"
    assert "fewer than 2 processes" in (result.pairs[0].note or "")


def test_sweeps_are_matched_job_by_job_minus_the_varying_field(base: RunRecord) -> None:
    old = [synth(base, _five(t * 1e-3, t), start_s=0, threads=t, model_sha256="a" * 64) for t in (1, 2, 4)]
    new = [synth(base, _five(t * 1e-3, 9 + t), start_s=500, threads=t, model_sha256="b" * 64) for t in (1, 2)]
    result = compare_records(old, new)
    assert result.varying == ("model_sha256",)
    # sorted: synth's records share created_at, so their order is their random id's (this test used to flake)
    assert sorted((p.a.spec.threads, p.b.spec.threads) for p in result.pairs) == [(1, 1), (2, 2)]
    assert [r.spec.threads for r in result.unmatched_a] == [4] and not result.unmatched_b
    assert result.geometric_mean() == pytest.approx(1.0, rel=0.05)
    assert varying_fields(old, old) == ()


def test_duplicates_keep_the_newest_and_failed_records_are_left_out(base: RunRecord) -> None:
    a_old = replace(synth(base, _five(1e-3, 1), start_s=0, threads=1), created_at="2026-01-01T00:00:00Z")
    a_new = replace(synth(base, _five(1e-3, 2), start_s=10, threads=1), created_at="2026-06-01T00:00:00Z")
    failed = replace(a_new, id=new_record_id(), status="failed", measurements=None, summary=None, processes=())
    b = synth(base, _five(1e-3, 3), start_s=20, threads=2)
    result = compare_records([a_old, a_new, failed], [b])
    assert result.pairs[0].a.id == a_new.id
    assert [r.id for r in result.failed] == [failed.id]
    assert any("older duplicate" in n for n in result.notes)


def test_environment_differences_are_warned(base: RunRecord) -> None:
    env_b = {
        "runtime_versions": FrozenMap({**base.environment.runtime_versions, "onnxruntime": "0.0.1"}),
        "cpu": FrozenMap({**base.environment.cpu, "governor": "powersave", "cpu_model": "Other CPU"}),
    }
    a = synth(base, _five(1e-3, 1), start_s=0, threads=1)
    b = synth(base, _five(1e-3, 2), start_s=0, threads=2, env=env_b)
    warnings = compare_records([a], [b]).warnings
    assert any("onnxruntime version differs" in w for w in warnings)
    assert any("governor differs" in w for w in warnings) and any("cpu_model differs" in w for w in warnings)


def test_refusals(base: RunRecord) -> None:
    a = synth(base, _five(1e-3, 1), start_s=0)
    with pytest.raises(UsageError, match="same records"):
        compare_records([a], [a])
    with pytest.raises(UsageError, match="unknown --metric"):
        compare_records([a], [a], metric="speed")
    failed = replace(a, id=new_record_id(), status="failed", measurements=None, processes=())
    with pytest.raises(UsageError, match="B holds no successful record"):
        compare_records([a], [failed])


def _files(tmp_path: Path, a: list[RunRecord], b: list[RunRecord]) -> tuple[str, str]:
    fa, fb = tmp_path / "a.json", tmp_path / "b.json"
    fa.write_text(json.dumps([record_to_dict(r) for r in a]))
    fb.write_text(json.dumps([record_to_dict(r) for r in b]))
    return str(fa), str(fb)


def test_cli_gate_on_record_files(capsys, monkeypatch, tmp_path: Path, base: RunRecord) -> None:  # type: ignore[no-untyped-def]
    a = synth(base, _five(1e-3, 1), start_s=1000, step_s=4, threads=1)
    b = synth(base, _five(1.2e-3, 2), start_s=1002, step_s=4, threads=2)
    fa, fb = _files(tmp_path, [a], [b])
    res = run_cli(capsys, monkeypatch, "compare", fa, fb, "--fail-if-slower", "5%")
    assert res.code == 1
    assert res.err.startswith("Error: regression gate: 1 job(s) significantly worse than A by more than 5.0%")
    assert res.err.count("\n") == 1
    assert "slower" in res.out and "paired n=5/5" in res.out
    assert run_cli(capsys, monkeypatch, "compare", fa, fb, "--fail-if-slower", "0.3").code == 0  # 20 % < 30 %
    assert run_cli(capsys, monkeypatch, "compare", fb, fa, "--fail-if-slower", "5%").code == 0  # B is faster
    out = run_cli(capsys, monkeypatch, "compare", fa, fb, "--json")
    data = json.loads(out.out)
    assert data["pairs"][0]["verdict"] == "slower" and data["pairs"][0]["test"]["paired"] is True
    assert data["geometric_mean_ratio"] == pytest.approx(1.2, rel=0.03)


def test_cli_not_significant_passes_the_gate(capsys, monkeypatch, tmp_path: Path, base: RunRecord) -> None:  # type: ignore[no-untyped-def]
    a = synth(base, _five(1e-3, 1), start_s=0, threads=1)
    b = synth(base, _five(1e-3, 2), start_s=900, threads=2)
    fa, fb = _files(tmp_path, [a], [b])
    res = run_cli(capsys, monkeypatch, "compare", fa, fb, "--fail-if-slower", "5%")
    assert res.code == 0 and "not significant" in res.out and "not measured interleaved" in res.out


def test_cli_strict_refuses_different_environments(capsys, monkeypatch, tmp_path: Path, base: RunRecord) -> None:  # type: ignore[no-untyped-def]
    env_b = {"runtime_versions": FrozenMap({**base.environment.runtime_versions, "onnxruntime": "0.0.1"})}
    fa, fb = _files(
        tmp_path, [synth(base, _five(1e-3, 1), start_s=0)], [synth(base, _five(1e-3, 2), start_s=9, env=env_b)]
    )
    warned = run_cli(capsys, monkeypatch, "compare", fa, fb)
    assert warned.code == 0 and "warning: onnxruntime version differs" in warned.out
    res = run_cli(capsys, monkeypatch, "compare", fa, fb, "--strict")
    assert res.code == 2 and res.err.startswith("Error: environments differ (1): onnxruntime version differs")


def test_cli_resolves_record_ids_and_sweep_ids(capsys, monkeypatch, tmp_path: Path, base: RunRecord) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    store = open_store(db)
    old = [synth(base, _five(t * 1e-3, t), start_s=0, threads=t, sweep_id="s-old") for t in (1, 2)]
    new = [synth(base, _five(t * 1.3e-3, t), start_s=0, threads=t, sweep_id="s-new", seed=t) for t in (1, 2)]
    for r in (*old, *new):
        store.put(r)
    res = run_cli(capsys, monkeypatch, "compare", "s-old", "s-new", "--db", str(db), "--json")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert len(data["pairs"]) == 2 and data["varying"] == []
    by_id = run_cli(capsys, monkeypatch, "compare", old[0].id, new[1].id[:14], "--db", str(db), "--json")
    assert by_id.code == 0 and json.loads(by_id.out)["varying"] == ["threads"]
    missing = run_cli(capsys, monkeypatch, "compare", "nope", "s-new", "--db", str(db))
    assert missing.code == 7 and "'nope' is neither a record file, a sweep id nor a record id" in missing.err


@pytest.mark.parametrize("bad", ["5", "abc", "-1%", "nan", "1000%"])
def test_cli_bad_threshold(capsys, monkeypatch, bad: str) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "compare", "a", "b", "--fail-if-slower", bad)
    assert res.code == 2 and "bad --fail-if-slower" in res.err


def test_cli_bad_alpha_and_metric(capsys, monkeypatch, tmp_path: Path, base: RunRecord) -> None:  # type: ignore[no-untyped-def]
    fa, fb = _files(
        tmp_path, [synth(base, _five(1e-3, 1), start_s=0)], [synth(base, _five(1e-3, 2), start_s=9, threads=3)]
    )
    assert "--alpha must be in (0, 1)" in run_cli(capsys, monkeypatch, "compare", fa, fb, "--alpha", "2").err
    res = run_cli(capsys, monkeypatch, "compare", fa, fb, "--metric", "speed")
    assert res.code == 2 and "unknown --metric 'speed'" in res.err
