"""[truth] A conformance model that makes onnxruntime warn on every call: the warnings never reach the
terminal or the timed window by default; raised to `warning` they are kept as an artifact and the
console prints one summary line."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tensorscatter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    case_module = pytest.importorskip("onnx.backend.test.case.node")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = {c.name: c for c in case_module.collect_testcases()}
    if "test_tensorscatter" not in cases:
        pytest.skip("this onnx has no TensorScatter case")
    import numpy as np

    case = cases["test_tensorscatter"]
    folder = tmp_path_factory.mktemp("ts")
    path = folder / "tensorscatter.onnx"
    path.write_bytes(case.model.SerializeToString())
    # its own inputs (random write indices are out of range for this op)
    names = [i.name for i in case.model.graph.input]
    np.savez(folder / "inputs.npz", **dict(zip(names, case.data_sets[0][0], strict=True)))
    return path


def _args(model: Path) -> tuple[str, ...]:
    return (
        str(model),
        "--inputs",
        str(model.parent / "inputs.npz"),
        "--processes",
        "1",
        "--warmup-time",
        "0",
        "--min-time",
        "0.2",
        "--min-iters",
        "200",
        "--no-store",
    )


def test_default_level_keeps_runtime_warnings_out(capsys, monkeypatch, tensorscatter: Path) -> None:
    res = run_cli(capsys, monkeypatch, "bench", *_args(tensorscatter))
    assert res.code == 0, res.err
    assert "tensorscatter.cc" not in res.err + res.out
    assert "\x1b[" not in res.err  # no colour codes through a pipe


def test_raised_level_gives_one_summary_line_and_an_artifact(capsys, monkeypatch, tensorscatter: Path) -> None:
    res = run_cli(capsys, monkeypatch, "bench", *_args(tensorscatter), "--runtime-log-level", "warning")
    assert res.code == 0, res.err
    assert "tensorscatter.cc" not in res.err  # nothing streamed to the terminal
    assert res.out.count("onnxruntime logged") == 1  # one summary line (wrapped to the terminal width)
    note = " ".join(res.out[res.out.index("onnxruntime logged") :].split())
    assert note.split("(full log:")[0].count("TensorScatter") >= 1 and "warnings; first:" in note
    rec = json.loads(
        run_cli(capsys, monkeypatch, "bench", *_args(tensorscatter), "--runtime-log-level", "warning", "--json").out
    )
    (art,) = [a for a in rec["artifacts"] if a["role"] == "runtime_log"]
    calls = 1 + len(rec["measurements"]["warmup_latencies_ns"]) + len(rec["measurements"]["latencies_ns"])
    assert art["role"] == "runtime_log" and Path(art["path"]).read_text().count("TensorScatter") >= calls
    # throughput stays the runtime's own rate: batch / mean latency
    mean_s = sum(rec["measurements"]["latencies_ns"]) / len(rec["measurements"]["latencies_ns"]) / 1e9
    assert rec["summary"]["throughput_ips"] == pytest.approx(1 / mean_s, rel=0.01)
