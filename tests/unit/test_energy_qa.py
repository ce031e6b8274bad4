"""QA regressions for the energy path: a broken --power-cmd never stalls or breaks a run; `energy show` errors."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.fakesys import build_nothing
from tests.unit.test_cli_bench import FAST, assert_one_line_error


def _meter(tmp_path: Path, name: str, body: str) -> str:
    script = tmp_path / f"{name}.py"
    script.write_text(body)
    return f"{sys.executable} {script}"


def _bench_with_meter(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    model: Path,
    tmp_path: Path,
    cmd: str,
    *extra: str,
) -> tuple[dict[str, object], float]:
    monkeypatch.setenv("EDGEBENCH_SYSFS_ROOT", str(build_nothing(tmp_path / "empty").root))
    t0 = time.monotonic()
    res = run_cli(
        capsys, monkeypatch, "bench", str(model), "--backend", "fake", "--inline", "--json",
        "--energy", "external", "--power-cmd", cmd, *extra,
    )  # fmt: skip
    took = time.monotonic() - t0
    assert res.code == 0, res.err
    assert "Traceback" not in res.err
    return json.loads(res.out), took


def test_meter_that_exits_at_once_is_reported_without_a_stall(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_onnx: Path, tmp_path: Path
) -> None:
    cmd = _meter(tmp_path, "dead", "import sys\nprint('no device on /dev/ttyUSB0', file=sys.stderr)\nsys.exit(4)\n")
    record, took = _bench_with_meter(capsys, monkeypatch, tiny_onnx, tmp_path, cmd, "--no-store", *FAST)
    energy = record["energy"]
    assert isinstance(energy, dict) and energy["energy_per_inference_j"] is None and energy["sensor"] is None
    reason = str(energy["energy_unavailable_reason"])
    # the user learns *why*: the meter's exit code and its own stderr, not only "fewer than two samples"
    assert "--power-cmd exited with code 4" in reason and "no device on /dev/ttyUSB0" in reason, reason
    assert took < 10, took  # it used to wait the sampler's full 15 s ready timeout


@pytest.mark.slow
def test_meter_printing_garbage_gives_no_energy_and_a_bounded_wait(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_onnx: Path, tmp_path: Path
) -> None:
    body = "import time\nwhile True:\n    print('W=4.2 (no timestamp)', flush=True)\n    time.sleep(0.05)\n"
    record, took = _bench_with_meter(
        capsys,
        monkeypatch,
        tiny_onnx,
        tmp_path,
        _meter(tmp_path, "garbage", body),
        "--no-store",
        "--processes",
        "1",
        *FAST,
    )
    energy = record["energy"]
    assert isinstance(energy, dict) and energy["energy_per_inference_j"] is None
    assert "fewer than two power samples" in str(energy["energy_unavailable_reason"])
    assert took < 10, took  # ≈ 3 s first-sample grace + 1 s tail, not the 15 s ready timeout


@pytest.fixture
def soak_record(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_onnx: Path, tmp_path: Path
) -> tuple[Path, str]:
    body = "import time\nwhile True:\n    print(f'{time.time()},5.0', flush=True)\n    time.sleep(0.02)\n"
    db = tmp_path / "r.sqlite"
    record, _ = _bench_with_meter(
        capsys, monkeypatch, tiny_onnx, tmp_path, _meter(tmp_path, "good", body), "--db", str(db), "--duration", "1s"
    )
    energy = record["energy"]
    assert isinstance(energy, dict) and energy["timeline"], energy
    return db, str(record["id"])


@pytest.mark.slow
def test_plot_into_a_missing_folder_is_one_line_and_a_good_plot_leaves_no_temp(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, soak_record: tuple[Path, str]
) -> None:
    pytest.importorskip("matplotlib")
    db, rid = soak_record
    missing = tmp_path / "nope" / "soak.png"
    res = run_cli(capsys, monkeypatch, "energy", "show", rid, "--db", str(db), "--plot", str(missing))
    assert_one_line_error(res, 2, "--plot folder", "does not exist")
    assert not missing.parent.exists()
    good = tmp_path / "soak.png"
    res = run_cli(capsys, monkeypatch, "energy", "show", rid, "--db", str(db), "--plot", str(good))
    assert res.code == 0, res.err
    assert good.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_energy_show_missing_id_and_record_without_energy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_onnx: Path, tmp_path: Path
) -> None:
    db = tmp_path / "r.sqlite"
    res = run_cli(
        capsys, monkeypatch, "bench", str(tiny_onnx), "--backend", "fake", "--inline", "--energy", "off",
        "--db", str(db), "--json", *FAST,
    )  # fmt: skip
    assert res.code == 0, res.err
    rid = json.loads(res.out)["id"]
    before = db.read_bytes()
    assert_one_line_error(run_cli(capsys, monkeypatch, "energy", "show", "zzzz", "--db", str(db)), 7, "no result")
    res = run_cli(capsys, monkeypatch, "energy", "show", rid, "--db", str(db))
    assert_one_line_error(res, 2, "has no energy block")
    assert db.read_bytes() == before  # read-only: the database is not touched
