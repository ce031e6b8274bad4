"""The Python API: the CLI's option names and rules, documented exceptions, str | PathLike paths."""

from __future__ import annotations

from pathlib import Path

import pytest

import edgebench
from edgebench.errors import ModelError, UsageError

FAST = dict(backend="fake", executor="inline", processes=1, warmup_time=0.0, min_time=0.01, min_iters=5)


def test_bench_takes_str_paths_and_stores(tiny_onnx: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    record = edgebench.bench(str(tiny_onnx), db=str(db), **FAST)  # type: ignore[arg-type]
    assert record.status == "ok" and db.exists()
    from edgebench.stores import open_store

    assert open_store(db).get(record.id).id == record.id


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"threads": "2"}, UsageError, "threads must be an integer"),
        ({"threads": 1.5}, UsageError, "threads must be an integer"),
        ({"max_time_s": 3}, UsageError, "did you mean 'max_time'"),
        ({"max_time": float("nan")}, UsageError, "--max-time must be a finite number"),
        ({"backend_options": {"foo": 1}}, UsageError, r"fake\.foo: unknown option"),
        ({"backend_options": "sigma=1"}, UsageError, "backend_options must be a mapping"),
        ({"shapes": "x=1x16"}, UsageError, "shapes must be a mapping"),
        ({"seed": -1}, UsageError, "--seed must be an integer"),
    ],
)
def test_bench_validates_like_the_cli(tiny_onnx: Path, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        edgebench.bench(tiny_onnx, store=False, **{**FAST, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize("model", [None, 123, ""])
def test_bench_refuses_non_models(model: object) -> None:
    with pytest.raises(UsageError, match="model must be a zoo name or a path"):
        edgebench.bench(model, store=False, **FAST)  # type: ignore[arg-type]


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        edgebench.bench(tmp_path / "nope.onnx", store=False, **FAST)  # type: ignore[arg-type]


def test_compare_interleaves_and_gives_ratios(tiny_onnx: Path) -> None:
    result = edgebench.compare(
        [tiny_onnx, tiny_onnx],
        store=False,
        executor="inline",
        backends=("fake",),
        processes=2,
        warmup_time=0.0,
        min_time=0.01,
        min_iters=5,
    )
    assert len(result.records) == 2 and result.ratios[0] is None
    ratio = result.ratios[1]
    assert ratio is not None and ratio.rounds == 2 and ratio.lo is not None and ratio.lo <= ratio.ratio <= ratio.hi
    with pytest.raises(UsageError, match="list of models"):
        edgebench.compare(str(tiny_onnx))  # type: ignore[arg-type]


def test_analyze_refuses_string_shapes(tiny_onnx: Path) -> None:
    with pytest.raises(UsageError, match="shapes must be a mapping"):
        edgebench.analyze(tiny_onnx, shapes="x=1x16")  # type: ignore[arg-type]
    assert edgebench.analyze(str(tiny_onnx)).summary_dict()["params"] == 256


def test_a_model_changed_after_resolution_is_refused(tiny_onnx: Path) -> None:
    from dataclasses import replace

    from edgebench.engine.bench import make_job
    from edgebench.engine.validate import validate_spec
    from edgebench.executors.inline import InlineExecutor
    from tests.conftest import fake_spec

    job = make_job(validate_spec(fake_spec(tiny_onnx)), None, False)
    with pytest.raises(ModelError, match="changed after it was resolved"):
        InlineExecutor().submit(replace(job, spec=replace(job.spec, model_sha256="0" * 64)))
