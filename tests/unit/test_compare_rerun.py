"""`edgebench compare --rerun`: both sides measured again, interleaved, from the very files they measured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgebench.stores import open_store
from tests.cli_helpers import run_cli

TFLITE = Path(__file__).resolve().parents[1] / "data" / "mobilenet_v1_0.25_128_quant.tflite"
QUICK = ("--backend", "fake", "--executor", "inline", "--processes", "1", "--warmup-time", "0", "--max-time", "0.2")


def _bench(capsys, monkeypatch, model: Path, db: Path, *extra: str) -> str:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "bench", str(model), *QUICK, "--db", str(db), "--json", *extra)
    assert res.code == 0, res.err
    return str(json.loads(res.out)["id"])


def test_rerun_measures_both_interleaved_and_stores_them(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    a = _bench(capsys, monkeypatch, TFLITE, db, "--backend-option", "latency_s=0.001")
    b = _bench(capsys, monkeypatch, TFLITE, db, "--backend-option", "latency_s=0.0015")
    plain = run_cli(capsys, monkeypatch, "compare", a, b, "--db", str(db), "--json")
    assert json.loads(plain.out)["pairs"][0]["verdict"] == "not significant"  # one process each: no test
    res = run_cli(
        capsys, monkeypatch, "compare", a, b, "--db", str(db), "--rerun", "--rounds", "3", "--executor", "inline",
        "--json", "--fail-if-slower", "10%",
    )  # fmt: skip
    assert res.code == 1, res.err  # 50 % slower, measured interleaved: the gate trips
    data = json.loads(res.out)
    (pair,) = data["pairs"]
    assert pair["interleaved"] and pair["test"]["paired"] and pair["test"]["n_a"] == 3
    assert pair["verdict"] == "slower" and 1.4 < pair["test"]["ratio"] < 1.6
    assert {pair["a"], pair["b"]}.isdisjoint({a, b})  # new records
    rerun = [r for r in open_store(db).list() if "compare-rerun" in r.spec.tags]
    assert len(rerun) == 2 and all(len(r.processes) == 3 for r in rerun)
    assert len({r.spec.sweep_id for r in rerun}) == 1 and rerun[0].spec.sweep_id.startswith("rerun-")  # type: ignore[union-attr]


def test_rerun_refuses_a_model_file_that_changed(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "r.db"
    model = tmp_path / "m.tflite"
    shutil.copy(TFLITE, model)
    a = _bench(capsys, monkeypatch, model, db)
    b = _bench(capsys, monkeypatch, model, db, "--threads", "2")
    model.write_bytes(TFLITE.read_bytes() + b"\1")
    res = run_cli(capsys, monkeypatch, "compare", a, b, "--db", str(db), "--rerun", "--executor", "inline")
    assert res.code == 2 and "has changed since record" in res.err
    assert len(open_store(db).list()) == 2  # nothing measured


def test_rerun_needs_two_rounds(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run_cli(capsys, monkeypatch, "compare", "a", "b", "--rerun", "--rounds", "1")
    assert res.code == 2 and "--rounds must be in [2, 1000]" in res.err
