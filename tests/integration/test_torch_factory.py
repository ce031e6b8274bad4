"""`module.path:factory` references: content identity, the torch backend (inline and in a fresh process), errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from edgebench.engine.bench import run_benchmark  # noqa: E402
from edgebench.errors import ModelError  # noqa: E402
from edgebench.records import RunSpec  # noqa: E402
from edgebench.zoo.resolve import load_ref_module, read_ref, resolve_model  # noqa: E402
from tests.cli_helpers import run_cli  # noqa: E402

MODULE = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        return torch.relu(self.fc(x))

def make():
    torch.manual_seed({seed})
    return Net()

def not_a_module():
    return 42

def broken():
    raise RuntimeError("weights missing")
"""
QUICK = dict(warmup_time_s=0.01, min_time_s=0.05, max_time_s=0.3, min_iters=10, processes=1, target_ci=0.0)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user project: tinynet_<n>.py in the working directory (unique module name per test)."""
    name = f"tinynet_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(MODULE.format(seed=0))
    monkeypatch.chdir(tmp_path)
    return tmp_path / f"{name}.py"


def _ref(project: Path, factory: str = "make") -> str:
    return f"{project.stem}:{factory}"


def test_identity_is_stable_and_follows_weights(project: Path, tmp_path: Path) -> None:
    first = resolve_model(_ref(project), tmp_path / "cache")
    again = resolve_model(_ref(project), tmp_path / "cache")
    assert first.info.format == "pyfactory" and first.path.suffix == ".pyref"
    assert first.info.sha256 == again.info.sha256 and first.path == again.path
    assert first.info.source_params == 8 * 5 + 5
    ref = read_ref(first.path)
    assert ref.reference == _ref(project) and ref.module_root == str(project.parent)
    assert json.loads(first.path.read_text())["edgebench_pyref"] == 1
    module, _ = load_ref_module(first.path)
    assert isinstance(module, torch.nn.Module) and not module.training


def test_changed_weights_change_identity_and_stale_refs_are_refused(project: Path, tmp_path: Path) -> None:
    import importlib
    import sys

    before = resolve_model(_ref(project), tmp_path / "cache")
    project.write_text(MODULE.format(seed=1))  # same code shape, other weights
    sys.modules.pop(project.stem, None)
    importlib.invalidate_caches()
    with pytest.raises(ModelError, match="state_dict hash changed"):
        load_ref_module(before.path)
    after = resolve_model(_ref(project), tmp_path / "cache")
    assert read_ref(after.path).identity != read_ref(before.path).identity
    assert after.info.sha256 != before.info.sha256


def test_torch_backend_runs_the_module_inline(project: Path) -> None:
    spec = RunSpec(model=_ref(project), backend="torch", shapes={"x": (2, 8)}, **QUICK)  # type: ignore[arg-type]
    record = run_benchmark(spec, store=None, executor="inline")
    assert record.status == "ok", record.error
    assert record.effective["format"] == "pyfactory"
    assert record.model is not None and record.model.source and record.model.source.startswith("factory:")
    assert record.measurements is not None and record.measurements.outputs[0].shape == (2, 5)


@pytest.mark.slow
def test_fresh_worker_process_imports_the_module(project: Path) -> None:
    spec = RunSpec(model=_ref(project), backend="torch", shapes={"x": (1, 8)}, **QUICK)  # type: ignore[arg-type]
    record = run_benchmark(spec, store=None, executor="local")
    assert record.status == "ok", record.error
    assert record.summary is not None and record.summary.iterations >= 10


@pytest.mark.parametrize(
    ("model", "backend", "text"),
    [
        ("nosuchmodule_xyz:make", "torch", "cannot import 'nosuchmodule_xyz'"),
        ("{mod}:missing", "torch", "has no callable 'missing'"),
        ("{mod}:not_a_module", "torch", "returned int, not a torch.nn.Module"),
        ("{mod}:broken", "torch", "raised RuntimeError: weights missing"),
        ("{mod}:make", "onnxruntime", "is a Python factory"),
    ],
)
def test_bad_references_are_one_line_errors(
    model: str,
    backend: str,
    text: str,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = model.format(mod=project.stem)
    res = run_cli(capsys, monkeypatch, "bench", ref, "--backend", backend, "--shape", "x=1x8", "--no-store")
    assert res.code == 3, res.err
    assert res.err.startswith("Error: ") and text in res.err and res.err.count("\n") == 1 and "Traceback" not in res.err


def test_zoo_model_as_module_for_the_torch_backend(tmp_path: Path) -> None:
    pytest.importorskip("efficientnet_lite_pytorch")
    resolved = resolve_model("efficientnet-lite0", tmp_path, formats=("torchscript", "exported_program", "pyfactory"))
    assert resolved.info.format == "pyfactory" and resolved.info.name == "efficientnet-lite0"
    assert resolved.info.task == "Image Classification" and resolved.info.source_params == 4_652_008
    assert read_ref(resolved.path).inputs == (("input", "float32", (1, 3, 224, 224)),)


def test_user_module_on_a_package_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "proj" / f"pkg_{abs(hash(tmp_path)) % 10**8}"
    (pkg / "models").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "models" / "__init__.py").write_text(textwrap.dedent(MODULE.format(seed=3)))
    monkeypatch.chdir(tmp_path / "proj")
    resolved = resolve_model(f"{pkg.name}.models:make", tmp_path / "cache")
    assert read_ref(resolved.path).module_root == str(tmp_path / "proj")
