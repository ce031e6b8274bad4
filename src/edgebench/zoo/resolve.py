"""Turn a zoo name or a path into a checked model file with metadata (and cache zoo exports)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgebench.errors import ModelError
from edgebench.modelfile import ONNX_FIRST_BYTES, model_files, model_sha256, sha256_file
from edgebench.records import ModelInfo
from edgebench.zoo.catalog import ZOO, PackagedFile, ZooEntry, get_entry

OPSET = 13


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    info: ModelInfo


def cache_dir_for(explicit: Path | None = None) -> Path:
    """``--cache-dir`` > ``EDGEBENCH_CACHE_DIR`` > the XDG user cache dir."""
    if explicit is not None:
        return explicit
    env = os.environ.get("EDGEBENCH_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("edgebench"))


def resolve_model(
    name_or_path: str,
    cache_dir: Path | None = None,
    *,
    dynamic_batch: bool = False,
    formats: tuple[str, ...] | None = None,
) -> ResolvedModel:
    """A zoo name is exported/cached on first use; anything else must be a readable model file.

    ``formats`` are those the caller can load, in preference order: a zoo entry offering several
    formats of one model gives the first it has. None: the entry's own first format.
    """
    if not isinstance(name_or_path, str) or not name_or_path:
        raise ModelError(
            f"model must be a zoo name or a path, got {name_or_path!r}", hint=f"zoo models: {', '.join(ZOO)}"
        )
    if name_or_path in ZOO:
        entry = get_entry(name_or_path)
        if entry.packaged is not None:
            return _packaged(entry, entry.packaged, formats)
        wanted = next((f for f in formats or entry.formats if f in entry.formats), "onnx")
        return pull(entry, cache_dir_for(cache_dir), dynamic_batch=dynamic_batch, fmt=wanted)
    path = Path(name_or_path).expanduser()
    if not path.exists() and "/" not in name_or_path and not path.suffix:
        get_entry(name_or_path)  # raises "unknown zoo model" with the list of names
    fmt = check_model_file(path)
    return ResolvedModel(path, _file_info(path, fmt, name=path.name, source="file"))


def _packaged(entry: ZooEntry, packaged: PackagedFile, formats: tuple[str, ...] | None) -> ResolvedModel:
    """A file inside an installed distribution, used where it lies once its hash matches the catalog's."""
    from importlib.metadata import PackageNotFoundError, distribution

    if formats is not None and packaged.format not in formats:
        raise ModelError(
            f"zoo model {entry.name} is a {packaged.format} file; this backend loads {', '.join(formats)}",
            hint=f"use a backend that loads {packaged.format} (e.g. --backend litert for tflite)",
        )
    try:
        dist = distribution(packaged.distribution)
    except PackageNotFoundError:
        raise ModelError(
            f"zoo model {entry.name} comes from the package {packaged.distribution}, which is not installed",
            hint=f"pip install {packaged.distribution}",
        ) from None
    path = Path(str(dist.locate_file(packaged.path)))
    if not _hash_ok(path, packaged.sha256):
        raise ModelError(
            f"{path} is missing or not the file the zoo knows ({packaged.distribution} {dist.version})",
            hint=f"reinstall it: pip install --force-reinstall {packaged.distribution}",
        )
    source = f"zoo:{entry.name} (in place from {packaged.distribution} {dist.version})"
    info = _file_info(path, packaged.format, name=entry.name, source=source, sha256=packaged.sha256)
    meta = {k: getattr(entry, k) for k in ("task", "input_layout", "preprocessing", "labels")}
    return ResolvedModel(path, ModelInfo(**{**info.__dict__, **meta}))


def check_model_file(path: Path) -> str:
    """Cheap sanity checks before any runtime sees the file; returns the format name."""
    fmt = model_files(path).format  # missing, directory, empty, unknown format, missing .bin → ModelError
    if fmt == "onnx":
        with path.open("rb") as fh:
            if fh.read(1)[0] not in ONNX_FIRST_BYTES:
                raise ModelError(f"{path} is not an ONNX model (unexpected leading bytes)", hint="pass a .onnx file")
        _check_onnx_parses(path)
    return fmt


def _check_onnx_parses(path: Path) -> None:
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, OSError) as exc:
        raise ModelError(
            f"{path} is not a readable ONNX model ({type(exc).__name__})",
            hint="the file may be truncated; re-export it",
        ) from exc
    if not model.graph.node:
        raise ModelError(f"{path} parses but has an empty graph (truncated or not ONNX)", hint="re-export it")


def pull(entry: ZooEntry, cache: Path, *, dynamic_batch: bool = False, fmt: str = "onnx") -> ResolvedModel:
    """Return the cached export of ``entry``, exporting it once (atomically) when absent or corrupt."""
    onnx_model = _pull_onnx(entry, cache, dynamic_batch)
    if fmt == "onnx":
        return onnx_model
    return _pull_derived(entry, cache, onnx_model, fmt, dynamic_batch)


def _pull_derived(entry: ZooEntry, cache: Path, root: ResolvedModel, fmt: str, dynamic_batch: bool) -> ResolvedModel:
    """A further format, made from the cached ONNX export by the entry's producer and cached by hash."""
    suffix, producer = entry.derived[fmt]
    final = cache / f"{entry.name}-{root.info.sha256[:16]}{suffix}"
    if not final.is_file():
        fd, tmp = tempfile.mkstemp(suffix=suffix, dir=cache)
        os.close(fd)
        try:
            producer(root.path, Path(tmp))
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    source = f"zoo:{entry.name} ({fmt}, from ONNX {root.info.sha256[:12]})"
    info = _file_info(final, fmt, name=entry.name, source=source)
    meta = {k: getattr(root.info, k) for k in ("task", "input_layout", "preprocessing", "labels", "source_params")}
    del dynamic_batch
    return ResolvedModel(final, ModelInfo(**{**info.__dict__, **meta}))


def _pull_onnx(entry: ZooEntry, cache: Path, dynamic_batch: bool) -> ResolvedModel:
    variant = "dynamic" if dynamic_batch else "static"
    key = f"{entry.name}:{variant}:opset{OPSET}"
    index_path = cache / "zoo-index.json"
    index = _read_index(index_path)
    cached = index.get(key)
    if cached and _hash_ok(cache / cached["file"], cached["sha256"]):
        path, digest = cache / cached["file"], cached["sha256"]
    else:
        path, digest = _export_into_cache(entry, cache, dynamic_batch)
        index[key] = {"file": path.name, "sha256": digest}
        _write_json_atomic(index_path, index)
    source = f"zoo:{entry.name} ({variant} batch)"
    info = _file_info(path, "onnx", name=entry.name, source=source, sha256=digest)  # verified: no re-hash
    meta = {
        "task": entry.task,
        "input_layout": entry.input_layout,
        "preprocessing": entry.preprocessing,
        "labels": entry.labels,
        "source_params": entry.module_params,
    }
    return ResolvedModel(path, ModelInfo(**{**info.__dict__, **meta}))


def _export_into_cache(entry: ZooEntry, cache: Path, dynamic_batch: bool) -> tuple[Path, str]:
    if entry.exporter is None:
        raise ModelError(f"zoo model {entry.name} has no ONNX exporter", hint="it is used as the file it ships as")
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx.tmp", dir=cache)
    os.close(fd)
    try:
        entry.exporter(Path(tmp), dynamic_batch, OPSET)
        digest = sha256_file(Path(tmp))
        final = cache / f"{entry.name}-{digest}.onnx"
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a shared cache should be readable
        os.replace(tmp, final)  # atomic: a crash never leaves a half-written model under its final name
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return final, digest


def _hash_ok(path: Path, digest: str) -> bool:
    return path.is_file() and sha256_file(path) == digest


def _read_index(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _file_info(path: Path, fmt: str, *, name: str, source: str, sha256: str | None = None) -> ModelInfo:
    files = model_files(path).files
    return ModelInfo(
        name=name,
        path=str(path.resolve()),
        format=fmt,
        size_bytes=sum(f.stat().st_size for f in files),
        sha256=sha256 or model_sha256(files),
        source=source,
        files=tuple(str(f.resolve()) for f in files[1:]),
    )
