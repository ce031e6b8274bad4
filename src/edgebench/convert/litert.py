"""PyTorch → LiteRT ``.tflite`` with the official converter, litert-torch (extra ``litert-convert``).

``litert_torch.convert(module, sample_args)`` exports the module with torch.export and lowers it to a
TFLite flatbuffer; the input layout stays the module's (NCHW for a torch vision model). ONNX → LiteRT
would need onnx2tf and tensorflow: not offered (convert from the PyTorch source instead).

The conversion runs in a child process (``python -m edgebench.convert.litert``): litert-torch imports
jax, which is multithreaded (forking the caller afterwards risks deadlocks, jax warns on every fork) and
holds on to a lot of memory; the child's logs go to /dev/null and its result comes back as a JSON file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from edgebench.convert._source import example_inputs, load_torch_source
from edgebench.convert._tools import dist_version, need
from edgebench.convert.base import TORCH_FORMATS, ConvertOptions
from edgebench.errors import BackendUnavailable, EdgebenchError, ModelError


class TorchToLiteRT:
    name = "litert"
    sources = TORCH_FORMATS
    output_format = "tflite"
    suffix = ".tflite"
    extra = "litert-convert"

    def tool(self) -> tuple[str, str]:
        # found, not imported: importing it here would load jax into the caller (see the module docstring)
        if not _installed("litert_torch"):
            raise BackendUnavailable(
                "converting PyTorch to LiteRT needs the Python package 'litert_torch', which is not installed",
                hint=f"pip install 'edgebench[{self.extra}]'",
            )
        return "litert-torch", dist_version("litert-torch")

    def convert(self, source: Path, out: Path, options: ConvertOptions) -> None:
        if options.dynamic_batch:
            raise ModelError("the LiteRT conversion writes a fixed batch", hint="drop --dynamic-batch for litert")
        self.tool()  # a missing litert-torch is reported here, naming the extra
        result = out.with_name(out.name + ".result.json")
        cmd = [sys.executable, "-m", "edgebench.convert.litert", str(source), str(out), options.model_dump_json()]
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        try:
            answer = json.loads(result.read_text()) if result.is_file() else {}
        finally:
            result.unlink(missing_ok=True)
        if proc.returncode == 0 and answer.get("ok"):
            return
        if "error" in answer:
            raise ModelError(answer["error"], hint=answer.get("hint"))
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise ModelError(f"the litert-torch conversion process failed: {tail[0][:300]}")


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None  # None: import blocked (tests do this)
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _convert_here(source: Path, out: Path, options: ConvertOptions) -> None:
    """What the child process does."""
    module, specs = load_torch_source(source)
    args = tuple(example_inputs(specs, options))
    with _quiet_fd2():
        litert_torch = need("litert_torch", TorchToLiteRT.extra, "converting PyTorch to LiteRT")
        try:
            edge = litert_torch.convert(module.eval(), args)
            edge.export(str(out))
        except Exception as exc:  # torch.export and MLIR lowering raise many types
            text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
            raise ModelError(f"litert-torch could not convert the module: {text}") from exc


def _child(argv: list[str]) -> int:
    source, out, raw = Path(argv[0]), Path(argv[1]), argv[2]
    result = out.with_name(out.name + ".result.json")
    try:
        _convert_here(source, out, ConvertOptions.model_validate_json(raw))
    except EdgebenchError as exc:
        result.write_text(json.dumps({"error": exc.message, "hint": exc.hint}))
        return 1
    result.write_text(json.dumps({"ok": True}))
    return 0


@contextlib.contextmanager
def _quiet_fd2() -> Iterator[None]:
    """jax/absl C++ logs (fd 2) and litert-torch's progress lines (stdout) would reach the user's terminal
    and corrupt ``--json``: both go to /dev/null while the tool runs (its errors still arrive as exceptions)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
