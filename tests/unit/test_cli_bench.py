"""CLI behaviour of bench/results/zoo: one-line errors with hints, exit codes, nothing corrupted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import make_onnx

FAST = ["--warmup-time", "0.01", "--min-time", "0.05", "--min-iters", "10"]


def assert_one_line_error(res, code: int, *needles: str) -> None:
    assert res.code == code, (res.code, res.err)
    lines = [line for line in res.err.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    # progress lines ("Benchmarking …") may precede it; the error itself is exactly one line, last
    assert len(errors) == 1 and lines[-1] == errors[0], res.err
    assert "Traceback" not in res.err and "hint:" in errors[0]
    for needle in needles:
        assert needle in errors[0], errors[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "results.db"


def bench(capsys, monkeypatch, *args: str):
    return run_cli(capsys, monkeypatch, "bench", *args)


def test_fake_bench_json_and_results_commands(capsys, monkeypatch, tiny_onnx: Path, db: Path) -> None:
    res = bench(capsys, monkeypatch, str(tiny_onnx), "--backend", "fake", "--inline", "--json", "--db", str(db), *FAST)
    assert res.code == 0, res.err
    record = json.loads(res.out)
    assert record["status"] == "ok" and record["summary"]["iterations"] >= 10
    assert record["analysis"]["params"] == 16 * 16  # static analysis attached to every record

    listed = run_cli(capsys, monkeypatch, "results", "list", "--db", str(db))
    assert record["id"] in listed.out
    shown = run_cli(capsys, monkeypatch, "results", "show", record["id"][:-3], "--db", str(db), "--json")
    assert json.loads(shown.out) == record
    human = run_cli(capsys, monkeypatch, "results", "show", record["id"], "--db", str(db))
    assert "Latency (median ± CI95)" in human.out and "| Model | Task |" in human.out
    csv_out = run_cli(capsys, monkeypatch, "results", "export", "--format", "csv", "--db", str(db))
    assert csv_out.out.splitlines()[1].startswith(record["id"])
    md = run_cli(capsys, monkeypatch, "results", "export", "--format", "markdown", "--db", str(db))
    assert "| tiny.onnx | – | – |" in md.out


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--shape", "x=4xa"], 2, "bad --shape"),
        (["--shape", "x=0x16"], 2, "bad --shape"),
        (["--shape", "nope=1x16"], 2, "unknown input nope"),
        (["--backend", "nope"], 2, "unknown backend 'nope'"),
        (["--backend", "tensorrt"], 4, "not part of this edgebench version"),
        (["--ep", "CUDAExecutionProvider"], 4, "CUDAExecutionProvider is not available"),
        (["--min-time", "-1"], 2, "--min-time must be a finite number in [0, 86400] seconds"),
        (["--max-time", "0"], 2, "--max-time must be a finite number in (0, 86400]"),
        (["--max-time", "nan"], 2, "--max-time must be a finite number"),
        (["--max-time", "inf"], 2, "--max-time must be a finite number"),
        (["--warmup-time", "inf"], 2, "--warmup-time must be a finite number"),
        (["--target-ci", "nan"], 2, "--target-ci must be a finite number"),
        (["--target-ci", "2"], 2, "--target-ci must be a finite number in [0, 0.5]"),
        (["--threads", "0"], 2, "--threads must be an integer in [1,"),
        (["--threads", "100000"], 2, "--threads must be an integer in [1,"),
        (["--threads", "64"], 2, "use --force"),
        (["--seed", "-1"], 2, "--seed must be an integer in [0,"),
        (["--processes", "0"], 2, "--processes must be an integer in [1,"),
        (["--backend-option", "nope=1"], 2, "onnxruntime.nope: unknown option"),
        (["--backend-option", "inter_op_threads=0"], 2, "onnxruntime.inter_op_threads: must be ≥ 1"),
        (["--backend", "fake", "--ep", "CPUExecutionProvider"], 2, "--ep is an ONNX Runtime option"),
        (["--runtime-log-level", "loud"], 2, "unknown --runtime-log-level"),
        (["--batch", "100000000"], 3, "limit"),
        (["--graph-opt", "fastest"], 2, "onnxruntime.graph_optimization: must be 'disable'"),
        (["--session-config", "novalue"], 2, "bad --session-config"),
    ],
)
def test_bad_options_give_one_line_errors(
    capsys, monkeypatch, tiny_onnx: Path, db: Path, args: list[str], code: int, needle: str
) -> None:
    res = bench(capsys, monkeypatch, str(tiny_onnx), "--db", str(db), "--inline", *FAST, *args)
    assert_one_line_error(res, code, needle)


def _bad_models(tmp_path: Path) -> dict[str, Path]:
    good = make_onnx(tmp_path / "good.onnx")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    empty = tmp_path / "empty.onnx"
    empty.touch()
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model")
    return {"missing": tmp_path / "missing.onnx", "dir": tmp_path, "empty": empty, "truncated": truncated, "text": text}


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("missing", "does not exist"),
        ("dir", "is a directory"),
        ("empty", "is empty"),
        ("truncated", "not a readable ONNX model"),
        ("text", "not an ONNX model"),
    ],
)
def test_bad_model_files(capsys, monkeypatch, tmp_path: Path, db: Path, kind: str, needle: str) -> None:
    model = _bad_models(tmp_path)[kind]
    res = bench(capsys, monkeypatch, str(model), "--db", str(db), *FAST)
    assert_one_line_error(res, 3, needle)


def test_model_format_the_backend_cannot_load(capsys, monkeypatch, tmp_path: Path, db: Path) -> None:
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(b"\x1c\x00\x00\x00TFL3" + b"\x00" * 64)
    res = bench(capsys, monkeypatch, str(tflite), "--db", str(db), *FAST)
    assert_one_line_error(res, 3, "onnxruntime backend loads onnx models, this is a tflite model")
    assert not db.exists() or "m.tflite" not in run_cli(capsys, monkeypatch, "results", "list", "--db", str(db)).out


def test_unknown_zoo_name(capsys, monkeypatch, db: Path) -> None:
    res = bench(capsys, monkeypatch, "resnet-9000", "--db", str(db))
    assert_one_line_error(res, 3, "unknown zoo model 'resnet-9000'", "efficientnet-lite0")


def test_errors_leave_the_store_untouched(capsys, monkeypatch, tiny_onnx: Path, db: Path) -> None:
    ok = bench(capsys, monkeypatch, str(tiny_onnx), "--backend", "fake", "--inline", "--db", str(db), *FAST)
    assert ok.code == 0
    from edgebench.records import record_to_json
    from edgebench.stores import open_store

    before = [record_to_json(r) for r in open_store(db).list()]
    assert len(before) == 1
    assert bench(capsys, monkeypatch, str(tiny_onnx), "--shape", "x=bad", "--db", str(db)).code == 2
    assert bench(capsys, monkeypatch, "missing.onnx", "--db", str(db)).code == 3
    assert bench(capsys, monkeypatch, str(tiny_onnx), "--min-time", "-1", "--db", str(db)).code == 2
    # the one good record is still there, byte for byte, and nothing was added
    assert [record_to_json(r) for r in open_store(db).list()] == before


def test_results_errors(capsys, monkeypatch, tmp_path: Path, db: Path) -> None:
    assert_one_line_error(run_cli(capsys, monkeypatch, "results", "show", "abc", "--db", str(db)), 7, "no result")
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    res = run_cli(capsys, monkeypatch, "results", "list", "--db", str(notes))
    assert_one_line_error(res, 7, "cannot open results database")
    assert notes.read_text() == "keep me"
    res = run_cli(capsys, monkeypatch, "results", "export", "--format", "xls", "--db", str(db))
    assert_one_line_error(res, 2, "unknown export format")


def test_crash_in_worker_becomes_a_failed_record(capsys, monkeypatch, tiny_onnx: Path, db: Path) -> None:
    """A segfaulting runtime is isolated in its process: stored failed record with the signal, exit 6."""
    res = bench(
        capsys,
        monkeypatch,
        str(tiny_onnx),
        "--backend",
        "fake",
        "--backend-option",
        "crash=segfault",
        "--db",
        str(db),
        "--processes",
        "1",
        *FAST,
    )
    assert_one_line_error(res, 6, "SIGSEGV")
    listed = run_cli(capsys, monkeypatch, "results", "export", "--format", "json", "--db", str(db))
    (stored,) = json.loads(listed.out)
    assert stored["status"] == "failed" and stored["error"]["exit_signal"] == 11
    assert stored["environment"]["captured_by"] == "worker"  # the worker wrote its environment first


def test_user_errors_found_in_the_worker_store_nothing(capsys, monkeypatch, tmp_path: Path, db: Path) -> None:
    import numpy as np

    model = make_onnx(tmp_path / "m.onnx")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "floats.npz", x=np.full((1, 16), 0.5))
    for inputs, needle in (("empty.npz", "cannot read inputs file"), ("floats.npz", None)):
        res = bench(
            capsys,
            monkeypatch,
            str(model),
            "--inputs",
            str(tmp_path / inputs),
            "--db",
            str(db),
            "--processes",
            "1",
            *FAST,
        )
        if needle:
            assert_one_line_error(res, 2, needle)
        else:
            assert res.code == 0, res.err
    int_model = make_onnx(tmp_path / "i.onnx", dtype="int64")
    res = bench(
        capsys,
        monkeypatch,
        str(int_model),
        "--inputs",
        str(tmp_path / "floats.npz"),
        "--db",
        str(db),
        "--processes",
        "1",
        *FAST,
    )
    assert_one_line_error(res, 2, "would change its values")
    rows = run_cli(capsys, monkeypatch, "results", "export", "--format", "json", "--db", str(db))
    assert len(json.loads(rows.out)) == 1  # only the good run was stored


def test_several_variants_are_interleaved_and_compared(capsys, monkeypatch, tiny_onnx: Path, db: Path) -> None:
    res = bench(
        capsys,
        monkeypatch,
        str(tiny_onnx),
        str(tiny_onnx),
        "--backend",
        "fake",
        "--inline",
        "--processes",
        "2",
        "--db",
        str(db),
        *FAST,
    )
    assert res.code == 0, res.err
    progress = [line for line in res.err.splitlines() if line.startswith("[")]
    assert [p.split("·")[-1].strip() for p in progress] == [
        "process 1/2…",
        "process 1/2…",
        "process 2/2…",
        "process 2/2…",
    ]  # A B A B, not A A B B
    assert "Comparison" in res.out and "baseline" in res.out and "×" in res.out


def test_max_time_alone_pulls_the_default_minimum_down(capsys, monkeypatch, tiny_onnx: Path, db: Path) -> None:
    res = bench(
        capsys,
        monkeypatch,
        str(tiny_onnx),
        "--backend",
        "fake",
        "--inline",
        "--max-time",
        "0.5",
        "--processes",
        "1",
        "--db",
        str(db),
        "--json",
    )
    assert res.code == 0, res.err
    assert json.loads(res.out)["spec"]["min_time_s"] == 0.5
    res = bench(capsys, monkeypatch, str(tiny_onnx), "--backend", "fake", "--min-time", "2", "--max-time", "1")
    assert_one_line_error(res, 2, "--min-time 2 exceeds --max-time 1")


def test_backends_command_lists_options(capsys, monkeypatch) -> None:
    res = run_cli(capsys, monkeypatch, "backends", "--json")
    rows = {r["name"]: r for r in json.loads(res.out)}
    assert rows["onnxruntime"]["formats"] == ["onnx"]
    names = {o["name"] for o in rows["onnxruntime"]["options"]}
    assert {"providers", "graph_optimization", "session_config"} <= names
    assert run_cli(capsys, monkeypatch, "--version").out.startswith("edgebench ")


def test_help_imports_no_runtime() -> None:
    code = (
        "import sys; sys.argv=['edgebench','--help']\n"
        "from edgebench.cli import main\n"
        "try:\n    main()\nexcept SystemExit: pass\n"
        "heavy=[m for m in ('onnxruntime','torch','onnx','openvino','numpy','tflite') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, edgebench; print(sorted(m for m in "
            "('onnxruntime','torch','onnx','openvino') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


def test_public_api_is_explicit() -> None:
    import edgebench

    assert set(edgebench.__all__) == {
        "SCHEMA_VERSION",
        "EdgebenchError",
        "RunRecord",
        "RunSpec",
        "analyze",
        "bench",
        "characterize",
        "compare",
        "load_results",
        "record_from_json",
        "record_to_json",
    }
    assert all(hasattr(edgebench, name) for name in edgebench.__all__)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["bench", "--min-time", "abc"], "Invalid value for '--min-time'"),
        (["bench", "--bogus"], "No such option: --bogus"),
        (["results", "show"], "Missing argument"),
        (["nosuchcmd"], "No such command"),
    ],
)
def test_parser_errors_are_one_line_too(capsys, monkeypatch, args: list[str], needle: str) -> None:
    res = run_cli(capsys, monkeypatch, *args)
    assert_one_line_error(res, 2, needle, "--help")


def test_piped_output_has_no_trailing_spaces(capsys, monkeypatch, tiny_onnx: Path) -> None:
    res = bench(capsys, monkeypatch, str(tiny_onnx), "--backend", "fake", "--inline", "--no-store", *FAST)
    assert res.code == 0, res.err
    assert "Latency (median ± CI95)" in res.out
    assert all(line == line.rstrip() for line in res.out.splitlines())


def test_comparison_gives_output_agreement_and_keeps_going_past_a_failed_variant(
    capsys, monkeypatch, tmp_path: Path, db: Path
) -> None:
    model = make_onnx(tmp_path / "m.onnx")
    twin = tmp_path / "twin.onnx"
    twin.write_bytes(model.read_bytes())
    res = bench(capsys, monkeypatch, str(model), str(twin), "--processes", "2", "--db", str(db), "--json", *FAST)
    assert res.code == 0, res.err
    payload = json.loads(res.out)
    same = payload["agreements"][1]
    assert same["max_abs_diff"] == 0.0 and same["cosine"] == pytest.approx(1.0) and same["top1"] == 1.0
    assert payload["ratios"][1]["rounds"] == 2

    quant = tmp_path / "q.tflite"
    quant.write_bytes((Path(__file__).parents[1] / "data" / "mobilenet_v1_0.25_128_quant.tflite").read_bytes())
    args = (str(quant), "--backend", "onnxruntime,fake", "--processes", "1", "--db", str(db), *FAST)
    res = bench(capsys, monkeypatch, *args, "--json")
    assert res.code == 6, res.err  # one variant failed: the command says so, the other still ran
    failed, ran = json.loads(res.out)["records"]
    assert failed["status"] == "failed" and "the onnxruntime backend loads onnx models" in failed["error"]["message"]
    assert ran["status"] == "ok" and ran["spec"]["backend"] == "fake"


def test_truncated_npz_inputs_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from tests.cli_helpers import run_cli

    whole = tmp_path / "whole.npz"
    np.savez(whole, x=np.zeros((1, 3, 8, 8), np.float32))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(whole.read_bytes()[:-40])  # cut the zip's central directory
    result = run_cli(capsys, monkeypatch, "bench", "--backend", "fake", "--inputs", str(broken), "--no-store")
    assert result.code == 2 and result.err.startswith("Error: cannot read inputs file"), result.err
    assert "Traceback" not in result.err


def test_rate_flag_paces_the_tight_loop(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tests.cli_helpers import run_cli

    args = ("bench", "--backend", "fake", "--backend-option", "real_time=true", "--inline", "--processes", "1")
    args += ("--rate", "40", "--json", "--no-store")
    timing = ("--warmup-time", "0.01", "--min-time", "0.3", "--max-time", "0.3", "--min-iters", "1", "--target-ci", "0")
    result = run_cli(capsys, monkeypatch, *args, *timing)
    assert result.code == 0, result.err
    record = json.loads(result.out)
    assert record["spec"]["scenario_options"]["rate_hz"] == 40
    assert 0 < record["scenario"]["result"]["achieved_rate_hz"] <= 41
    bad = run_cli(capsys, monkeypatch, "bench", "--backend", "fake", "--rate", "0", "--no-store")
    assert bad.code == 2 and bad.err.startswith("Error: ") and "rate_hz" in bad.err
