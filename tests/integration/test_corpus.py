"""``edgebench analyze`` over the onnx wheel's own models: the nine ``light_*`` networks against
published figures, and the conformance models against the CLI's contract (documented exit codes,
one ``Error:`` line, never a traceback).

The wheel ships the ``light_*`` files and a few conformance folders (``simple``, ``pytorch-*``) on
disk. Recent wheels no longer ship ``node/*/model.onnx``; they ship the code that writes them
(``onnx.backend.test.case.node``, what ``backend-test-tools generate-data`` runs), so the node
models are generated from it into a temporary folder, once per session.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgebench.analysis import analyze_model
from tests.cli_helpers import Result, run_cli

onnx = pytest.importorskip("onnx")

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
LIGHT = DATA / "light"
EXIT_CODES = {0, 2, 3, 4}  # success, usage, model, backend (edgebench/errors.py)
ANALYZE_EVERY = 3  # a sample of the corpus (CI time): every 3rd model, sorted, so it is the same each run
JSON_EVERY = 5  # every sampled model runs with --per-layer; every 5th also with --json
CUT_EVERY = 10  # and every 10th also cut in half, so that the error paths are walked too


# --- light_* against published figures -------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    macs: float | None  # published multiply-accumulates at the file's 224×224 input, None when none fits
    rel: float = 0.01
    params: int | None = None  # published parameter count the file's count is derived from, exactly
    bn_extra: int = 0  # parameters per BatchNorm channel the file keeps beyond the source's γ and β
    source: str = ""


REFERENCES = {
    # torchvision's model table ("GFLOPS" there are MACs); ResNet-50 v1.5, as this Caffe2 export
    "light_resnet50": Reference(4.089e9, 0.002, 25_557_032, 2, "torchvision resnet50"),
    "light_densenet121": Reference(2.834e9, 0.005, 7_978_856, 4, "torchvision densenet121"),
    "light_squeezenet": Reference(0.35e9, 0.005, 1_235_496, 0, "torchvision squeezenet1_1"),
    "light_vgg19": Reference(19.63e9, 0.001, 143_667_240, 0, "torchvision vgg19"),
    "light_inception_v1": Reference(1.43e9, 0.005, None, 0, "GoogLeNet, Sze et al. 2017 (1.43 G MACs, 7.0 M)"),
    # ShuffleNet paper, 1× g=4: 133 MFLOPs (= mult-adds); the paper leaves Stage 2's first 1×1 conv
    # ungrouped, this export groups it (see the test): 124.7 M here
    "light_shufflenet": Reference(133e6, 0.02, None, 0, "ShuffleNet (Zhang et al. 2017) Table 2"),
    # AlexNet's 724 M MACs (Sze et al.) are at 227×227; this file is fed 224×224. BVLC params are exact.
    "light_bvlc_alexnet": Reference(None, 0, 60_965_224, 0, "BVLC AlexNet"),
    "light_inception_v2": Reference(None),  # BN-Inception: no figure at hand to vouch for
    "light_zfnet512": Reference(None),
}


def _dims(value_info: Any) -> tuple[int, ...]:
    return tuple(int(d.dim_value) for d in value_info.type.tensor_type.shape.dim)


def _independent_macs(path: Path) -> int:
    """Conv and Gemm MACs from onnx's own shape inference on the file as it is, counted here from
    scratch; plain inference resolves these nine files, so it is a cross-check of the analyzer."""
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    shapes = {vi.name: _dims(vi) for vi in (*graph.input, *graph.value_info, *graph.output)}
    macs = 0
    for node in graph.node:
        if node.op_type == "Conv":  # every output element reads (Cin / groups) × kernel inputs
            weight = shapes[node.input[1]]
            macs += math.prod(shapes[node.output[0]]) * math.prod(weight[1:])
        elif node.op_type == "Gemm":
            (m, k), out = shapes[node.input[0]], shapes[node.output[0]]
            trans_a = any(a.name == "transA" and a.i for a in node.attribute)
            macs += (k if trans_a else m) * (m if trans_a else k) * out[1]
    return macs


def _shufflenet_as_in_the_paper(result: Any) -> int:
    """The paper's Stage 2 starts with an ungrouped 1×1 conv: g = 4 times the MACs of this file's."""
    first = next(r for r in result.layers if r.op == "Conv" and r.output_shape and r.output_shape[2] == 56)
    return int(result.macs + 3 * first.macs)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_light_models_are_fully_counted(name: str) -> None:
    path = LIGHT / f"{name}.onnx"
    if not path.exists():
        pytest.skip(f"this onnx wheel does not ship {path.name}")
    result = analyze_model(path)
    assert result.macs_complete and result.lower_bounds == () and result.unknown_activation_tensors == 0
    assert result.macs == _independent_macs(path)
    assert result.peak_activation_bytes and result.peak_activation_node
    ref = REFERENCES[name]
    if ref.macs is not None:
        macs = _shufflenet_as_in_the_paper(result) if name == "light_shufflenet" else result.macs
        assert macs == pytest.approx(ref.macs, rel=ref.rel), ref.source
    if ref.params is not None:
        bn_channels = sum(r.output_shape[1] for r in result.layers if r.op == "BatchNormalization" and r.output_shape)
        assert result.params == ref.params + ref.bn_extra * bn_channels, ref.source


# --- the CLI contract over the conformance corpus -----------------------------------------------------


def _node_models(folder: Path) -> list[Path]:
    """``node/<case>/model.onnx`` as in older wheels: from disk when shipped, else generated."""
    shipped = sorted((DATA / "node").glob("*/model.onnx"))
    if shipped:
        return shipped
    case_module = pytest.importorskip("onnx.backend.test.case.node")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the case generators warn about the ops they exercise
        cases = case_module.collect_testcases()
    paths = []
    for case in sorted(cases, key=lambda c: c.name):
        path = folder / case.name / "model.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.model.SerializeToString())
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    on_disk = sorted(p for p in DATA.glob("*/*/model.onnx") if p.parts[-3] != "node")
    models = _node_models(tmp_path_factory.mktemp("onnx-node-models")) + on_disk + sorted(LIGHT.glob("*.onnx"))
    cut_dir = tmp_path_factory.mktemp("cut-models")
    cut = []
    for index, path in enumerate(models[::CUT_EVERY]):
        damaged = cut_dir / f"{index:04d}-{path.parent.name}-cut.onnx"
        damaged.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        cut.append(damaged)
    return models + cut


def _contract_broken(res: Result, json_out: bool) -> str | None:
    """What is wrong with one run's output, or None."""
    if res.code not in EXIT_CODES:
        return f"exit code {res.code}"
    if "Traceback" in res.out + res.err:
        return "traceback"
    if res.code != 0:
        lines = [line for line in res.err.splitlines() if line.strip()]
        return None if len(lines) == 1 and lines[0].startswith("Error: ") else f"error output {res.err!r:.300}"
    if json_out:
        json.loads(res.out)  # a JSON error fails the test with its own message
    return None if res.out.strip() else "no output"


@pytest.mark.slow
def test_cli_contract_over_the_conformance_corpus(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, corpus: list[Path]
) -> None:
    assert len(corpus) > 1000, "the onnx wheel's conformance models were not found"
    failures = 0
    broken: list[str] = []
    codes: dict[int, int] = {}
    start = time.perf_counter()
    # a deterministic third of the corpus keeps CI's time in budget; every model kind is still present
    for index, path in enumerate(corpus[::ANALYZE_EVERY]):
        for extra in ("--per-layer", "--json") if index % JSON_EVERY == 0 else ("--per-layer",):
            res = run_cli(capsys, monkeypatch, "analyze", str(path), extra)
            codes[res.code] = codes.get(res.code, 0) + 1
            failures += res.code != 0
            problem = _contract_broken(res, extra == "--json")
            if problem:
                broken.append(f"{path.parent.name}/{path.name} {extra}: {problem}")
    elapsed = time.perf_counter() - start
    assert not broken, f"{len(broken)} run(s) broke the CLI contract:\n" + "\n".join(broken[:30])
    assert failures, "no run failed: the error paths were not exercised"
    print(f"{len(corpus[::ANALYZE_EVERY])} of {len(corpus)} models, exit codes {codes}, {elapsed:.0f} s")


BENCH_EVERY = 60  # a deterministic sample: about 40 models, each a short run in a fresh worker


@pytest.mark.slow
def test_short_bench_over_a_sample_of_the_corpus(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, corpus: list[Path], tmp_path: Path
) -> None:
    """[hardening] `bench` on real conformance models (and cut copies): a record or one Error line each,
    never a traceback; whatever happens, the database stays sound and holds only completed runs."""
    import sqlite3

    db = tmp_path / "corpus.db"
    sample = corpus[::BENCH_EVERY]
    broken, codes = [], {}
    for path in sample:
        res = run_cli(
            capsys,
            monkeypatch,
            "bench",
            str(path),
            "--processes",
            "1",
            "--warmup-time",
            "0",
            "--min-time",
            "0.01",
            "--max-time",
            "0.1",
            "--min-iters",
            "3",
            "--db",
            str(db),
        )
        codes[res.code] = codes.get(res.code, 0) + 1
        res.err = "\n".join(line for line in res.err.splitlines() if not line.startswith("["))  # progress lines
        problem = _contract_broken(res, json_out=False) if res.code != 6 else None
        if res.code == 6 and not res.err.strip().splitlines()[-1].startswith("Error: benchmark failed"):
            problem = f"failed run without its one-line error: {res.err!r:.300}"
        if problem:
            broken.append(f"{path.parent.name}/{path.name}: {problem}")
    assert not broken, f"{len(broken)} run(s) broke the CLI contract:\n" + "\n".join(broken[:30])
    assert codes.get(0, 0) >= len(sample) // 3, codes  # most conformance models really run
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    assert stored == codes.get(0, 0) + codes.get(6, 0)  # ok and failed runs stored; user errors not
    print(f"bench over {len(sample)} models: exit codes {codes}")
