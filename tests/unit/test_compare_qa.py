"""QA regressions for `edgebench compare`: readable notes and rerun records that keep the model's name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edgebench.engine.compare import compare_records
from edgebench.records import RunRecord
from edgebench.stores import open_store
from tests.cli_helpers import run_cli
from tests.unit.test_compare_records import base, synth  # noqa: F401 - base is a module fixture used below
from tests.unit.test_compare_rerun import TFLITE, _bench


def test_one_gap_is_said_once_not_as_a_range_of_equal_ends(base: RunRecord) -> None:  # noqa: F811
    a = synth(base, [0.010], start_s=0)  # one process: window 0–1 s
    b = synth(base, [0.010], start_s=8)  # starts 7 s after A ended
    (note,) = [n for n in compare_records([a], [b]).notes if "not measured interleaved" in n]
    assert "(7 s apart)" in note and "–" not in note.split("apart")[0]
    c = synth(base, [0.010], start_s=0, threads=4)
    d = synth(base, [0.010], start_s=600, threads=4)  # a second job, ~10 min apart: now a real range
    (note,) = [n for n in compare_records([a, c], [b, d]).notes if "not measured interleaved" in n]
    assert "(7 s–10 min apart)" in note


def test_rerun_keeps_the_model_name_as_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shutil.copy(TFLITE, tmp_path / "m.tflite")
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "r.db"
    a = _bench(capsys, monkeypatch, Path("m.tflite"), db, "--backend-option", "latency_s=0.001")
    b = _bench(capsys, monkeypatch, Path("m.tflite"), db, "--backend-option", "latency_s=0.001", "--threads", "2")
    res = run_cli(
        capsys, monkeypatch, "compare", a, b, "--db", str(db), "--rerun", "--rounds", "2", "--executor", "inline",
        "--json",
    )  # fmt: skip
    assert res.code == 0, res.err
    (pair,) = json.loads(res.out)["pairs"]
    assert pair["job"].startswith("m.tflite · fake")
    rerun = [r for r in open_store(db).list() if "compare-rerun" in r.spec.tags]
    # before: the absolute path of the file, so labels, reports and --where model=… saw another "model"
    assert [r.spec.model for r in rerun] == ["m.tflite", "m.tflite"]
    assert all(r.spec.model_sha256 == rerun[0].spec.model_sha256 for r in rerun)


def test_a_record_on_both_sides_is_refused_not_compared_with_itself(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    base: RunRecord,  # noqa: F811
) -> None:
    from edgebench.records import record_to_dict

    sweep = [synth(base, [0.010], start_s=0, threads=t, sweep_id="s-20261202T000000-abcd") for t in (1, 2)]
    db = tmp_path / "r.db"
    store = open_store(db)
    for record in sweep:
        store.put(record)
    both = tmp_path / "both.json"
    extra = synth(base, [0.010], start_s=0, threads=4)
    both.write_text(json.dumps([record_to_dict(r) for r in (*sweep, extra)]))
    # a sweep id against one of its own records, and a file holding the sweep against the sweep id
    for a, b in (("s-20261202T000000-abcd", sweep[1].id), (str(both), "s-20261202T000000-abcd")):
        res = run_cli(capsys, monkeypatch, "compare", a, b, "--db", str(db))
        assert res.code == 2, res.out  # before: exit 0, "B/A 1.000 … paired", a record against itself
        (line,) = res.err.strip().splitlines()
        assert line.startswith("Error: A and B share") and "(hint: " in line


def test_an_ambiguous_id_prefix_says_so(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    base: RunRecord,  # noqa: F811
) -> None:
    db = tmp_path / "r.db"
    store = open_store(db)
    records = [synth(base, [0.010], start_s=0, threads=t) for t in (1, 2)]
    for record in records:
        store.put(record)
    common = next(i for i, (x, y) in enumerate(zip(records[0].id, records[1].id, strict=True)) if x != y)
    prefix = records[0].id[:common]  # ids are time-ordered: the two share a prefix
    res = run_cli(capsys, monkeypatch, "compare", prefix, records[1].id, "--db", str(db))
    assert res.code == 7
    (line,) = res.err.strip().splitlines()
    assert "is ambiguous (2 matches)" in line and "neither a record file" not in line  # before: "neither …"
