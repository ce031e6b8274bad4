"""Turn a zoo name, a path or a ``module.path:factory`` reference into a checked model file with metadata.

Zoo exports are cached by content hash. A factory reference (Python code returning a ``torch.nn.Module``)
becomes a small ``.pyref`` JSON file in the cache (format ``pyfactory``) so that jobs, hashing and
executors treat it like any other model file. Its *content identity* is the sha256 over the reference
itself, the source file of the factory's module, the source file of the returned module's class, and the
bytes of its ``state_dict`` (names, dtypes, shapes, values in order): code or weights that change give a
new identity, the same code and weights on another machine give the same one.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.errors import ModelError, UsageError
from edgebench.modelfile import ONNX_FIRST_BYTES, model_files, model_sha256, sha256_file
from edgebench.records import ModelInfo
from edgebench.zoo.catalog import ZOO, PackagedFile, ZooEntry, get_entry

if TYPE_CHECKING:
    import torch

OPSET = 13
# module.path:factory — dotted identifiers, a colon, one identifier (what `python -m`/entry points use)
FACTORY_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")
PYREF_VERSION = 1


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
    if FACTORY_REF.fullmatch(name_or_path) and not Path(name_or_path).exists():
        return _for_loader(resolve_factory(name_or_path, cache_dir_for(cache_dir)), formats)
    if name_or_path in ZOO:
        entry = get_entry(name_or_path)
        if entry.packaged is not None:
            return _packaged(entry, entry.packaged, formats)
        if _wants_module(entry, formats):
            return zoo_module(entry, cache_dir_for(cache_dir), dynamic_batch=dynamic_batch)
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


# --- module.path:factory references ------------------------------------------------------------------


@dataclass(frozen=True)
class FactoryRef:
    """What a ``.pyref`` file holds: where the code is, and the identity of what it built."""

    module: str
    factory: str
    identity: str  # sha256 over the reference, both source files and the state_dict bytes
    module_root: str  # the sys.path entry the module was imported from (workers import from there too)
    source_sha256: str
    class_sha256: str
    state_dict_sha256: str
    inputs: tuple[tuple[str, str, tuple[int | str, ...]], ...] = ()  # (name, dtype, shape) when known

    @property
    def reference(self) -> str:
        return f"{self.module}:{self.factory}"


def _for_loader(resolved: ResolvedModel, formats: tuple[str, ...] | None) -> ResolvedModel:
    if formats is not None and "pyfactory" not in formats:
        raise ModelError(
            f"{resolved.info.name} is a Python factory (a torch.nn.Module); this backend loads {', '.join(formats)}",
            hint=f"use --backend torch, or convert it first: edgebench convert {resolved.info.name} --to onnx",
        )
    return resolved


def _wants_module(entry: ZooEntry, formats: tuple[str, ...] | None) -> bool:
    """A torch-only caller asking for a zoo model that exists as a PyTorch module (no file format fits)."""
    from edgebench.zoo.export import FACTORIES

    if formats is None or entry.name not in FACTORIES or "pyfactory" not in formats:
        return False
    return not any(f in entry.formats for f in formats)


def zoo_module(entry: ZooEntry, cache: Path, *, dynamic_batch: bool = False) -> ResolvedModel:
    """The zoo entry's PyTorch source module as a factory reference, with the entry's metadata."""
    from edgebench.zoo.export import FACTORIES

    if entry.name not in FACTORIES:
        raise ModelError(f"zoo model {entry.name} has no PyTorch source module", hint="use its file format instead")
    shape: tuple[int | str, ...] = ("batch", *entry.input_shape[1:]) if dynamic_batch else entry.input_shape
    resolved = resolve_factory(FACTORIES[entry.name], cache, inputs=((entry.input_name, "float32", shape),))
    meta = {k: getattr(entry, k) for k in ("task", "input_layout", "preprocessing", "labels")}
    info = ModelInfo(
        **{**resolved.info.__dict__, **meta, "name": entry.name, "source_params": entry.module_params},
    )
    source = f"zoo:{entry.name} (PyTorch nn.Module, {resolved.info.source})"
    return ResolvedModel(resolved.path, replace_source(info, source))


def replace_source(info: ModelInfo, source: str) -> ModelInfo:
    return ModelInfo(**{**info.__dict__, "source": source})


def resolve_factory(
    reference: str, cache: Path, *, inputs: tuple[tuple[str, str, tuple[int | str, ...]], ...] = ()
) -> ResolvedModel:
    """Import and call the factory once (to hash what it builds) and write its ``.pyref`` into the cache."""
    module_name, factory = reference.split(":")
    module = build_module(module_name, factory)
    ref = FactoryRef(
        module=module_name,
        factory=factory,
        identity="",
        module_root=_module_root(module_name),
        source_sha256=_source_sha256(sys.modules[module_name]),
        class_sha256=_source_sha256(type(module)),
        state_dict_sha256=state_dict_sha256(module),
        inputs=inputs,
    )
    ref = FactoryRef(**{**ref.__dict__, "identity": _identity(ref)})
    path = _write_ref(ref, cache)
    source = f"factory:{reference} (identity {ref.identity[:16]})"
    info = _file_info(path, "pyfactory", name=reference, source=source)
    params = sum(int(p.numel()) for p in module.parameters())
    return ResolvedModel(path, ModelInfo(**{**info.__dict__, "source_params": params}))


def build_module(module_name: str, factory: str, module_root: str | None = None) -> torch.nn.Module:
    """Import ``module_name`` (cwd and ``module_root`` on the path, as ``python -m`` would), call the factory."""
    func = _import_factory(module_name, factory, module_root)
    try:
        built = func()
    except Exception as exc:  # user code: any exception type
        raise ModelError(
            f"the factory {module_name}:{factory}() raised {type(exc).__name__}: {_first_line(exc)}",
            hint="it is called with no arguments and must return a torch.nn.Module",
        ) from exc
    import torch

    if not isinstance(built, torch.nn.Module):
        raise ModelError(
            f"the factory {module_name}:{factory}() returned {type(built).__name__}, not a torch.nn.Module",
            hint="return the model itself (e.g. `return MyNet().eval()`)",
        )
    return built.eval()


def _import_factory(module_name: str, factory: str, module_root: str | None) -> Any:
    with _import_path([os.getcwd(), *([module_root] if module_root else [])]):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise ModelError(
                f"cannot import {module_name!r} for the factory reference {module_name}:{factory} ({exc})",
                hint="run from the directory that holds it, or add that directory to PYTHONPATH",
            ) from exc
        except Exception as exc:  # importing user code may raise anything
            raise ModelError(
                f"importing {module_name!r} raised {type(exc).__name__}: {_first_line(exc)}",
                hint="fix the module so that `python -c 'import " + module_name + "'` works",
            ) from exc
    func = getattr(module, factory, None)
    if func is None or not callable(func):
        raise ModelError(
            f"{module_name} has no callable {factory!r}",
            hint=f"define `def {factory}() -> torch.nn.Module` in {module_name}",
        )
    return func


@contextlib.contextmanager
def _import_path(extra: Sequence[str]) -> Iterator[None]:
    added = [p for p in extra if p not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)


def _module_root(module_name: str) -> str:
    """The directory that, on sys.path, makes ``module_name`` importable."""
    file = getattr(sys.modules[module_name], "__file__", None)
    if not file:
        return os.getcwd()
    path = Path(file).resolve()
    depth = module_name.count(".") + (1 if path.name == "__init__.py" else 0)
    return str(path.parents[depth])


def _source_sha256(obj: Any) -> str:
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:  # builtins and C extensions have no source file
        source = None
    return sha256_file(Path(source)) if source and Path(source).is_file() else "no-source"


def state_dict_sha256(module: torch.nn.Module) -> str:
    """sha256 over every state_dict entry: name, dtype, shape and raw bytes, in order."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{value.dtype}|{tuple(value.shape)}\n".encode())
        if value.numel():  # raw bytes, whatever the dtype (bf16 has no numpy view)
            digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _identity(ref: FactoryRef) -> str:
    parts = (ref.reference, ref.source_sha256, ref.class_sha256, ref.state_dict_sha256, repr(ref.inputs))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _write_ref(ref: FactoryRef, cache: Path) -> Path:
    """The reference as JSON (the magic first, for cheap format detection); rewritten only when it changed."""
    body = {"edgebench_pyref": PYREF_VERSION, **ref.__dict__, "inputs": [list(i) for i in ref.inputs]}
    text = json.dumps(body)  # compact and in insertion order: starts with PYREF_MAGIC
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"factory-{ref.module}-{ref.factory}-{ref.identity[:16]}.pyref"
    if not (path.is_file() and path.read_text() == text):
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


def read_ref(path: Path) -> FactoryRef:
    try:
        data = json.loads(path.read_text())
        inputs = tuple((str(n), str(d), tuple(s)) for n, d, s in data.get("inputs") or ())
        fields = {k: data[k] for k in FactoryRef.__dataclass_fields__ if k != "inputs"}
        return FactoryRef(**fields, inputs=inputs)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{path} is not a readable factory reference ({exc})", hint="resolve MODULE:FACTORY again"
        ) from exc


def load_ref_module(path: Path) -> tuple[torch.nn.Module, FactoryRef]:
    """Build the module a ``.pyref`` names and check it is still what was hashed (code or weights changed?)."""
    ref = read_ref(path)
    module = build_module(ref.module, ref.factory, ref.module_root)
    if state_dict_sha256(module) != ref.state_dict_sha256:
        raise ModelError(
            f"{ref.reference} now builds different weights than when it was resolved (state_dict hash changed)",
            hint="resolve it again (rerun the command with the reference, not the cached .pyref)",
        )
    return module, ref


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def parse_factory_ref(text: str) -> tuple[str, str]:
    if not FACTORY_REF.fullmatch(text):
        raise UsageError(f"{text!r} is not a module.path:factory reference", hint="e.g. mypkg.models:build_net")
    module, factory = text.split(":")
    return module, factory
