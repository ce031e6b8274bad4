"""LoadGen's QSL from real samples (the inputs file ``bench --data`` writes) and accuracy mode scored
against their labels, through the real LoadGen on an echo session (output = input, so each sample's
top-1 is known in advance and a mixed-up sample index shows up as a wrong score)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgebench.accuracy.bench_data import _qsl_arrays, _write_inputs
from edgebench.engine.inputs import QSL_PREFIX, load_file, load_qsl
from edgebench.protocols import IOSpec
from edgebench.scenarios.loadgen import score

pytest.importorskip("mlperf_loadgen")

CLASSES = 6
SPECS = [IOSpec("x", "float32", (1, CLASSES))]


def _sample(cls: int) -> np.ndarray:
    x = np.zeros((1, CLASSES), dtype=np.float32)
    x[0, cls] = 1.0
    x[0, (cls + 1) % CLASSES] = 0.5  # second best: top-5 differs from top-1
    return x


def _inputs_file(tmp_path: Path, classes: list[int], accepted: list[tuple[int, ...]]) -> Path:
    samples = [_sample(c) for c in classes]
    qsl = _qsl_arrays("x", samples, accepted, "test set (echo)")
    return _write_inputs("x", samples[0], tmp_path, qsl)


class _Echo:
    """A session whose output is its input; counts the distinct inputs it saw."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    def inputs(self) -> list[IOSpec]:
        return SPECS

    def outputs(self) -> list[IOSpec]:
        return [IOSpec("y", "float32", (1, CLASSES))]

    def run(self, feeds: Any) -> list[Any]:
        self.seen.add(feeds["x"].tobytes())
        time.sleep(0.0005)
        return [feeds["x"]]

    def close(self) -> None:
        return None


class _ConcurrentEcho(_Echo):
    def in_flight(self, feeds: Any, workers: int) -> Any:
        from edgebench.scenarios.loadgen import ThreadPoolInFlight

        return ThreadPoolInFlight(self, feeds, workers)


def _run(session: _Echo, path: Path | None, scenario: str, **options: Any) -> dict[str, Any]:
    from edgebench import registry
    from edgebench.engine.window import CollectorWindow
    from edgebench.protocols import ScenarioContext
    from edgebench.records import RunSpec

    plugin = registry.load("edgebench.scenarios", scenario)
    opts = plugin.Options(min_duration_s=0.05, min_queries=20, **options)
    spec = RunSpec(model="m", warmup_time_s=0.0, scenario=scenario, inputs_file=str(path) if path else None)
    feeds = {"x": _sample(0)}  # what the engine prepares from the file: sample 0
    window = CollectorWindow(time.perf_counter_ns, [])
    ctx = ScenarioContext(session, feeds, time.perf_counter_ns, spec, opts, window)
    outcome = plugin().run(ctx)
    assert outcome.result is not None
    return dict(outcome.result)


def test_the_inputs_file_keeps_sample_0_for_the_loop_and_n_labelled_samples_for_the_qsl(tmp_path: Path) -> None:
    path = _inputs_file(tmp_path, [2, 4, 1], [(2,), (3, 4), ()])
    feeds, notes = load_file(path, SPECS)
    assert list(feeds) == ["x"] and notes == []  # the reserved keys are neither feeds nor "ignored key" notes
    np.testing.assert_array_equal(feeds["x"], _sample(2))
    qsl = load_qsl(path, SPECS)
    assert qsl is not None and len(qsl.feeds) == 3 and qsl.source == "test set (echo)"
    for got, cls in zip(qsl.feeds, [2, 4, 1], strict=True):
        np.testing.assert_array_equal(got["x"], _sample(cls))
    assert qsl.accepted == ((2,), (3, 4), ())
    with np.load(path) as raw:
        assert {k for k in raw.files if k.startswith(QSL_PREFIX)} == {
            f"{QSL_PREFIX}x.x",
            f"{QSL_PREFIX}accepted",
            f"{QSL_PREFIX}source",
        }


def test_a_plain_inputs_file_has_no_qsl(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    np.savez(path, x=_sample(1))
    assert load_qsl(path, SPECS) is None
    assert load_qsl(tmp_path / "missing.npz", SPECS) is None


def test_score_counts_top1_and_top5_over_labelled_samples_only() -> None:
    top5 = {0: (1, 2, 3, 4, 5), 1: (0, 9, 8, 7, 6), 2: (3, 3, 3, 3, 3), 3: (2, 1, 0, 4, 5)}
    accepted = ((1,), (9, 4), (), (5,))
    result, note = score(top5, accepted)
    assert note is None and result == {"top1": 1 / 3, "top5": 1.0, "top1_correct": 1, "top5_correct": 3, "samples": 3}
    assert score(top5, None)[0] is None and "no labels" in str(score(top5, None)[1])
    assert score(top5, ((), (), (), ()))[0] is None


@pytest.mark.parametrize("scenario", ["single_stream", "offline"])
def test_accuracy_mode_scores_each_real_sample_against_its_labels(tmp_path: Path, scenario: str) -> None:
    classes = [0, 1, 2, 3, 4, 5, 0, 1]
    accepted: list[tuple[int, ...]] = [(c,) for c in classes]
    accepted[3] = (4,)  # echo answers 3 first, 4 second: a top-1 miss, a top-5 hit
    accepted[5] = (2,)  # echo ranks 5, 0, then ties: 2 is within the top 5 of 6 classes
    accepted[6] = ()  # unlabelled: not scored
    session = _Echo()
    options = {"workers": 2} if scenario == "offline" else {}
    res = _run(session, _inputs_file(tmp_path, classes, accepted), scenario, accuracy_mode=True, **options)
    assert res["qsl"]["real_samples"] == res["qsl"]["sample_count"] == 8
    assert res["qsl"]["source"] == "test set (echo)" and res["qsl"]["issued"] == "per sample"
    assert res["samples"] == 8 and len(session.seen) == 6  # every sample once; 6 distinct tensors
    assert res["accuracy"] == {"top1": 5 / 7, "top5": 1.0, "top1_correct": 5, "top5_correct": 7, "samples": 7}
    from edgebench.scenarios.loadgen import headline

    assert "top-1 5/7 (71.4%), top-5 7/7 (100.0%)" in headline("X", res)


def test_performance_mode_issues_the_real_samples_and_generated_input_stays_one_sample(tmp_path: Path) -> None:
    session = _Echo()
    res = _run(session, _inputs_file(tmp_path, [0, 1, 2, 3], [(0,)] * 4), "server", target_qps=400.0, workers=2)
    assert res["qsl"]["real_samples"] == 4 and "accuracy" not in res
    assert len(session.seen) == 4  # LoadGen's queries drew all four samples
    plain = _Echo()
    res = _run(plain, None, "single_stream", accuracy_mode=True, sample_count=5)
    assert res["qsl"] == {
        "real_samples": 0,
        "sample_count": 5,
        "source": "generated (the prepared input)",
        "issued": "the prepared input",
    }
    assert res["accuracy"] is None and "not scored" in res["accuracy_note"] and len(plain.seen) == 1
    from edgebench.scenarios.loadgen import headline

    assert "accuracy not scored" in headline("SingleStream", res)


def test_sessions_with_their_own_requests_answer_accuracy_per_sample(tmp_path: Path) -> None:
    path = _inputs_file(tmp_path, [1, 2, 3], [(1,), (2,), (0,)])
    session = _ConcurrentEcho()
    res = _run(session, path, "offline", accuracy_mode=True, workers=2)
    assert res["qsl"]["issued"] == "per sample (inline)"
    assert res["accuracy"]["top1_correct"] == 2 and res["accuracy"]["samples"] == 3
    timed = _ConcurrentEcho()
    res = _run(timed, path, "offline", workers=2)
    assert res["qsl"]["issued"].startswith("sample 0") and len(timed.seen) == 1


@pytest.mark.parametrize("value", ["0", "many"])
def test_a_bad_qsl_size_is_one_line_error(
    value: str, tiny_onnx: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli_helpers import run_cli

    args = ("bench", str(tiny_onnx), "--data", "builtin", "--scenario", "offline", "--no-store")
    res = run_cli(capsys, monkeypatch, *args, "--scenario-option", f"qsl_samples={value}")
    assert res.code != 0 and "Traceback" not in res.err
    assert f"Error: qsl_samples must be a whole number ≥ 1, got '{value}'" in res.err and "(hint:" in res.err
