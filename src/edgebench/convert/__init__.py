"""Conversion to each runtime's format (step 3 of the guide) and the deploy matrix.

Converters are plugins (entry-point group ``edgebench.converters``, protocol :class:`Converter`): one
module per route — ``onnx`` (PyTorch → ONNX), ``onnx-simplified`` (onnxslim), ``onnx-fp16``
(onnxconverter-common), ``openvino`` (ONNX → IR), ``litert`` (PyTorch → .tflite with litert-torch), and
the ``fake`` one for tests. :func:`convert` plans the route (a target that reads ONNX, given a PyTorch
source, first goes through ``onnx``), caches every output by content hash (source sha256 + target +
options + tool version), times it, hashes input and output and checks the result numerically against
the source. Every tool is imported inside its converter (rule 5).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from edgebench.convert.base import (
    TORCH_FORMATS,
    Conversion,
    Converter,
    ConvertOptions,
    FileFacts,
    NumericCheck,
    conversion_from_dict,
)
from edgebench.convert.check import CheckData
from edgebench.errors import ModelError, PluginError, UsageError

__all__ = [
    "GROUP",
    "CheckData",
    "Conversion",
    "ConvertOptions",
    "Converter",
    "FileFacts",
    "NumericCheck",
    "convert",
    "get_converter",
    "resolve_source",
    "target_names",
]

GROUP = "edgebench.converters"
_MEMBERS = ("name", "sources", "output_format", "suffix", "extra", "tool", "convert")
_RECORD = "conversion.json"


def target_names() -> list[str]:
    """Registered targets; ``fake`` last."""
    from edgebench import registry

    return registry.names(GROUP)


def get_converter(target: str) -> Converter:
    """The converter plugin for ``target``, checked by the registry plus the data members routing needs."""
    from edgebench import registry

    if target not in registry.names(GROUP):
        raise UsageError(f"unknown conversion target {target!r}", hint=f"choose one of: {', '.join(target_names())}")
    plugin = registry.load(GROUP, target)  # import errors and the name/method contract, as for every axis
    missing = [m for m in _MEMBERS if not hasattr(plugin, m)]
    if missing:
        raise PluginError(f"converter {target!r} in {GROUP} breaks its contract: missing {', '.join(missing)}")
    instance: Converter = plugin()
    return instance


def resolve_source(model: str, cache_dir: Path | None = None) -> tuple[Path, str, str]:
    """(path, format, sha256) of what to convert: a zoo model with a PyTorch source gives its nn.Module.

    Outputs are named after ``model`` (``efficientnet-lite0.onnx``, ``mynet-make.tflite``).
    """
    from edgebench.zoo.catalog import ZOO
    from edgebench.zoo.export import FACTORIES
    from edgebench.zoo.resolve import cache_dir_for, resolve_model, zoo_module

    if model in ZOO and model in FACTORIES:
        resolved = zoo_module(ZOO[model], cache_dir_for(cache_dir))
    else:
        resolved = resolve_model(model, cache_dir)
    return resolved.path, resolved.info.format, resolved.info.sha256


def convert(
    model: str,
    target: str,
    *,
    out: Path | None = None,
    options: ConvertOptions | None = None,
    cache_dir: Path | None = None,
    check: bool = True,
    data: CheckData | None = None,
) -> Conversion:
    """Convert ``model`` (zoo name, file or ``module:factory``) to ``target``; cached unless ``out`` is given.

    ``data`` replaces the check's built-in photos with a dataset (the check then always runs afresh).
    """
    options = options or ConvertOptions()
    converter = get_converter(target)  # unknown target: fail before any slow resolution
    path, fmt, _sha = resolve_source(model, cache_dir)
    stem = output_stem(model)
    return convert_file(
        path, fmt, converter, out=out, options=options, cache_dir=cache_dir, check=check, stem=stem, data=data
    )


def output_stem(model: str) -> str:
    """A file-name stem for what the user typed: a path's stem, a zoo name, ``module-factory``."""
    stem = Path(model).stem if ("/" in model or Path(model).suffix) and ":" not in model else model
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in stem) or "model"


def convert_file(
    path: Path,
    fmt: str,
    converter: Converter,
    *,
    out: Path | None,
    options: ConvertOptions,
    cache_dir: Path | None,
    check: bool,
    stem: str | None = None,
    data: CheckData | None = None,
) -> Conversion:
    """Convert a resolved source file; a target that cannot read ``fmt`` goes through ``onnx`` first."""
    steps: tuple[Conversion, ...] = ()
    start_path, start_fmt = path, fmt
    if fmt not in converter.sources:
        first = _first_step(fmt, converter)
        step = convert_file(path, fmt, first, out=None, options=options, cache_dir=cache_dir, check=False, stem=stem)
        steps = (step,)
        start_path, start_fmt = Path(step.output.path), step.output.format
    done = _convert_step(start_path, start_fmt, converter, out=out, options=options, cache_dir=cache_dir, stem=stem)
    result = Conversion(**{**done.__dict__, "steps": steps})
    if check and (result.check is None or data is not None):
        from edgebench.convert.check import check_conversion

        verdict = check_conversion(path, fmt, Path(result.output.path), result.output.format, options, data)
        result = Conversion(**{**result.__dict__, "check": verdict})
        if out is None and data is None:  # the cached record keeps the check on the built-in samples
            _save_record(Path(result.output.path).parent, result)
    return result


def _first_step(fmt: str, converter: Converter) -> Converter:
    if fmt in TORCH_FORMATS and "onnx" in converter.sources:
        return get_converter("onnx")
    if fmt == "onnx" and converter.name == "litert":
        raise ModelError(
            "ONNX → LiteRT is not offered: the maintained route (onnx2tf) needs tensorflow",
            hint="convert from the PyTorch source: edgebench convert MODULE:FACTORY --to litert",
        )
    if fmt == converter.output_format:
        raise UsageError(f"the model already is {fmt}", hint="choose another --to target")
    raise ModelError(
        f"no route from {fmt} to {converter.name} (it reads {', '.join(converter.sources)})",
        hint="convert to one of those formats first",
    )


def _convert_step(
    source: Path,
    fmt: str,
    converter: Converter,
    *,
    out: Path | None,
    options: ConvertOptions,
    cache_dir: Path | None,
    stem: str | None,
) -> Conversion:
    """One converter run, or its cached result when the same source, options and tool produced it before."""
    from edgebench.modelfile import model_files, model_sha256

    tool, version = converter.tool()  # a missing tool fails here, naming its extra
    src_files = model_files(source).files
    src = FileFacts(str(source), fmt, model_sha256(src_files), sum(f.stat().st_size for f in src_files))
    dumped = options.model_dump(mode="json")
    key = _cache_key(src.sha256, converter.name, dumped, f"{tool} {version}")
    if out is None:
        folder = _cache_root(cache_dir) / converter.name / key[:24]
        cached = _load_record(folder)
        if cached is not None:
            return Conversion(**{**cached.__dict__, "cached": True})
        final = folder / f"{stem or Path(source).stem}{converter.suffix}"
    else:
        folder, final = out.parent, out
        _check_output_path(final, src_files)
    seconds = _run_into(converter, source, final, options)
    files = model_files(final).files
    output = FileFacts(str(final), converter.output_format, model_sha256(files), sum(f.stat().st_size for f in files))
    result = Conversion(converter.name, tool, version, seconds, src, output, dumped)
    if out is None:
        _save_record(folder, result)
    return result


def _check_output_path(final: Path, src_files: tuple[Path, ...]) -> None:
    """A user's ``-o``: a folder (or one to create), and never one of the source's own files (the user's model)."""
    parent = final.parent
    for folder in (parent, *parent.parents):  # missing folders are created; a file in the way is an error
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"output folder {folder} is a file, not a folder", hint="choose another -o path")
    sources = {f.resolve() for f in src_files}
    # OpenVINO writes NAME.bin beside NAME.xml: that file must not be one of the source's either.
    written = {final.resolve(), final.with_suffix(".bin").resolve()}
    if sources & written:
        raise UsageError(
            f"--output {final} would overwrite the model being converted",
            hint="choose another output file name",
        )


def _run_into(converter: Converter, source: Path, final: Path, options: ConvertOptions) -> float:
    """Convert into a temporary folder beside ``final``, then move the files in: no half-written outputs.

    Folders created for ``final`` are removed again when the conversion fails (a failed run leaves nothing).
    """
    created = [p for p in (final.parent, *final.parent.parents) if not p.exists()]  # deepest first
    try:
        return _convert_into(converter, source, final, options)
    except BaseException:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _convert_into(converter: Converter, source: Path, final: Path, options: ConvertOptions) -> float:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmpdir = Path(tempfile.mkdtemp(prefix=".convert-", dir=final.parent))
    except OSError as exc:
        raise UsageError(
            f"cannot write to {final.parent}: {exc.strerror or exc}", hint="choose a writable output folder with -o"
        ) from exc
    try:
        tmp_out = tmpdir / final.name
        start = time.perf_counter()
        converter.convert(source, tmp_out, options)
        seconds = time.perf_counter() - start
        if not tmp_out.is_file() or tmp_out.stat().st_size == 0:
            raise ModelError(f"the {converter.name} converter wrote no {final.name}", hint="report this as a bug")
        for produced in sorted(tmpdir.iterdir()):  # OpenVINO writes .xml and .bin
            os.replace(produced, final.parent / produced.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return seconds


def _cache_key(source_sha: str, target: str, options: dict[str, Any], tool: str) -> str:
    text = json.dumps({"source": source_sha, "target": target, "options": options, "tool": tool}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _cache_root(cache_dir: Path | None) -> Path:
    from edgebench.zoo.resolve import cache_dir_for

    return cache_dir_for(cache_dir) / "converted"


def _load_record(folder: Path) -> Conversion | None:
    """The cached conversion, when its output files still hash to what was recorded."""
    from edgebench.modelfile import model_files, model_sha256

    try:
        record = conversion_from_dict(json.loads((folder / _RECORD).read_text()))
        files = model_files(Path(record.output.path)).files
    except (OSError, ValueError, KeyError, TypeError, ModelError):
        return None
    return record if model_sha256(files) == record.output.sha256 else None


def _save_record(folder: Path, record: Conversion) -> None:
    tmp = folder / f"{_RECORD}.tmp"
    tmp.write_text(json.dumps(record.to_dict(), indent=2, sort_keys=True))
    os.replace(tmp, folder / _RECORD)
