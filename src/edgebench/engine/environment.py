"""Capture the environment of the machine that measures, attached to every record (pyperf metadata)."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import cast

from edgebench._frozen import FrozenMap
from edgebench.records import Accelerator, Environment, JSONValue

# Runtime packages whose versions matter to a result; absent ones are simply not listed.
_RUNTIME_PACKAGES = ("onnxruntime", "onnx", "numpy", "openvino", "ai-edge-litert", "torch", "tflite-runtime")


def capture(
    thread_settings: dict[str, JSONValue] | None = None, *, extra_versions: dict[str, str] | None = None
) -> Environment:
    """The machine as this process sees it (cheap: no subprocess but ``git``, < 100 ms)."""
    from edgebench.platform.cpu import environment_facts

    commit, reason = git_commit(Path.cwd())
    versions = {p: v for p in _RUNTIME_PACKAGES if (v := package_version(p))}
    return Environment(
        hostname=socket.gethostname(),
        os=_os_name(),
        kernel=platform.release(),
        python=platform.python_version(),
        edgebench_version=package_version("edgebench") or "unknown",
        machine=platform.machine(),
        cpu=FrozenMap(cast(dict[str, JSONValue], environment_facts())),
        ram_bytes=_ram_bytes(),
        load_avg=_load_avg(),
        runtime_versions=FrozenMap({**versions, **(extra_versions or {})}),
        thread_settings=FrozenMap(thread_settings or {}),
        git_commit=commit,
        git_commit_reason=reason,
        accelerators=accelerators(),
        pid=os.getpid(),
    )


def accelerators() -> tuple[Accelerator, ...]:
    """NVIDIA GPUs through NVML when it is installed; nothing (not an error) otherwise."""
    from edgebench.platform.nvml import probe_nvml

    try:
        import pynvml  # noqa: F401  (probe only when the library is there: keeps this cheap)
    except ImportError:
        return ()
    probe = probe_nvml()
    cuda, capabilities = _cuda_facts(len(probe.gpus))
    return tuple(
        Accelerator(
            "gpu", g.name, "NVIDIA", probe.driver_version, cuda, capabilities.get(g.index), g.memory_total_bytes
        )
        for g in probe.gpus
    )


def _cuda_facts(count: int) -> tuple[str | None, dict[int, str]]:
    import pynvml

    try:
        pynvml.nvmlInit()
    except Exception:
        return None, {}
    try:
        version = int(pynvml.nvmlSystemGetCudaDriverVersion_v2())
        cuda = f"{version // 1000}.{version % 1000 // 10}"
        caps = {}
        for index in range(count):
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(pynvml.nvmlDeviceGetHandleByIndex(index))
            caps[index] = f"{major}.{minor}"
        return cuda, caps
    except Exception:
        return None, {}
    finally:
        pynvml.nvmlShutdown()


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        return platform.system()


def _ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _load_avg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def git_commit(cwd: Path) -> tuple[str | None, str | None]:
    """The commit of the project the user benchmarks from, so a result can be tied to code."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.TimeoutExpired):
        return None, "git not available"
    if out.returncode != 0:
        return None, "not inside a git repository"
    return out.stdout.strip(), None
