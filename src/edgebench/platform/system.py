"""Memory, storage, OS, board identity and visible accelerators, read under ``root``.

/proc/meminfo is parsed directly (it is what psutil reads on Linux, and it can be faked); psutil is
the fallback where there is no /proc (macOS, Windows) and gives disk usage for any path.
"""

from __future__ import annotations

import platform as _pyplatform
import socket
from dataclasses import dataclass, field
from pathlib import Path

from edgebench.platform._fs import read_text, sorted_glob, under
from edgebench.platform.cpu import parse_cpuinfo
from edgebench.platform.nvml import NvmlProbe

# USB ids of the Coral USB Accelerator before (Global Unichip) and after (Google) firmware load.
_CORAL_USB_IDS = {("1a6e", "089a"), ("18d1", "9302")}


@dataclass(frozen=True)
class MemoryInfo:
    total_bytes: int | None
    available_bytes: int | None
    swap_total_bytes: int | None
    swap_free_bytes: int | None
    source: str


@dataclass(frozen=True)
class StorageInfo:
    path: str
    total_bytes: int | None
    free_bytes: int | None


@dataclass(frozen=True)
class BoardInfo:
    """Board identity where the firmware exposes it: device tree (Pi, Jetson) or DMI (x86)."""

    model: str | None
    source: str | None
    dmi_vendor: str | None = None
    dmi_product: str | None = None
    jetson_l4t: str | None = None
    pi_revision: str | None = None


@dataclass(frozen=True)
class SystemInfo:
    hostname: str | None
    os_name: str | None
    kernel: str | None
    python: str
    memory: MemoryInfo
    storage: StorageInfo
    board: BoardInfo
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Accelerator:
    """A GPU, NPU, TPU or DLA that the OS makes visible (it may still lack a runtime to drive it)."""

    kind: str  # gpu | npu | tpu | dla
    name: str
    source: str  # nvml | devfreq | /dev node | usb | drm
    path: str | None = None
    memory_bytes: int | None = None
    detail: str | None = None


def detect_system(root: Path = Path("/")) -> SystemInfo:
    reasons: dict[str, str] = {}
    real = root == Path("/")
    kernel = read_text(under(root, "/proc/sys/kernel/osrelease")) or (_pyplatform.release() if real else None)
    hostname = read_text(under(root, "/proc/sys/kernel/hostname")) or (socket.gethostname() if real else None)
    os_name = _os_release(root)
    for key, value, why in (
        ("kernel", kernel, "/proc/sys/kernel/osrelease not readable"),
        ("hostname", hostname, "/proc/sys/kernel/hostname not readable"),
        ("os_name", os_name, "no PRETTY_NAME in /etc/os-release"),
    ):
        if value is None:
            reasons[key] = why
    return SystemInfo(
        hostname=hostname,
        os_name=os_name,
        kernel=kernel,
        python=_pyplatform.python_version(),
        memory=detect_memory(root),
        storage=detect_storage(root),
        board=detect_board(root),
        reasons=reasons,
    )


def detect_memory(root: Path = Path("/")) -> MemoryInfo:
    text = read_text(under(root, "/proc/meminfo"))
    if text is not None:
        kib = _meminfo(text)
        return MemoryInfo(
            total_bytes=kib.get("MemTotal"),
            available_bytes=kib.get("MemAvailable", kib.get("MemFree")),
            swap_total_bytes=kib.get("SwapTotal"),
            swap_free_bytes=kib.get("SwapFree"),
            source="/proc/meminfo",
        )
    if root != Path("/"):
        return MemoryInfo(None, None, None, None, source="absent: /proc/meminfo not readable")
    import psutil

    virtual, swap = psutil.virtual_memory(), psutil.swap_memory()
    return MemoryInfo(int(virtual.total), int(virtual.available), int(swap.total), int(swap.free), "psutil")


def _meminfo(text: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return values


def detect_storage(root: Path = Path("/")) -> StorageInfo:
    """Capacity of the filesystem holding ``root`` (where models and results live)."""
    import psutil

    try:
        usage = psutil.disk_usage(str(root))
    except OSError:
        return StorageInfo(str(root), None, None)
    return StorageInfo(str(root), int(usage.total), int(usage.free))


def _os_release(root: Path) -> str | None:
    text = read_text(under(root, "/etc/os-release")) or read_text(under(root, "/usr/lib/os-release"))
    for line in (text or "").splitlines():
        key, _, value = line.partition("=")
        if key == "PRETTY_NAME":
            return value.strip().strip('"') or None
    return None


def detect_board(root: Path = Path("/")) -> BoardInfo:
    dt_model = read_text(under(root, "/proc/device-tree/model")) or read_text(
        under(root, "/sys/firmware/devicetree/base/model")
    )
    dmi = under(root, "/sys/class/dmi/id")
    dmi_vendor, dmi_product = read_text(dmi / "sys_vendor"), read_text(dmi / "product_name")
    if dt_model:
        model, source = dt_model, "device-tree"
    elif dmi_product:
        model, source = " ".join(x for x in (dmi_vendor, dmi_product) if x), "dmi"
    else:
        model, source = None, None
    return BoardInfo(
        model=model,
        source=source,
        dmi_vendor=dmi_vendor,
        dmi_product=dmi_product,
        jetson_l4t=_l4t_release(root),
        pi_revision=_pi_revision(root),
    )


def _l4t_release(root: Path) -> str | None:
    """``# R35 (release), REVISION: 4.1, ...`` → ``R35.4.1``."""
    text = read_text(under(root, "/etc/nv_tegra_release"))
    if not text:
        return None
    head = text.lstrip("# ").split(",")
    major = head[0].split()[0]
    revision = next((p.split(":", 1)[1].strip() for p in head if "REVISION" in p), "")
    return f"{major}.{revision}" if revision else major


def _pi_revision(root: Path) -> str | None:
    """Raspberry Pi board revision code (``d04170`` = Pi 5 8 GB) from the /proc/cpuinfo trailer."""
    _processors, machine = parse_cpuinfo(read_text(under(root, "/proc/cpuinfo")) or "")
    return machine.get("Revision")


def detect_accelerators(root: Path = Path("/"), nvml: NvmlProbe | None = None) -> tuple[Accelerator, ...]:
    """GPUs from NVML, then device nodes and sysfs entries of NPUs/TPUs/DLAs and devfreq GPUs."""
    found: list[Accelerator] = []
    for gpu in nvml.gpus if nvml else ():
        found.append(
            Accelerator(
                "gpu",
                gpu.name,
                "nvml",
                f"nvml:{gpu.index}",
                gpu.memory_total_bytes,
                f"driver {nvml.driver_version}" if nvml and nvml.driver_version else None,
            )
        )
    found += _accel_nodes(root)
    found += _named_nodes(root)
    found += _coral_usb(root)
    found += _jetson_dla(root)
    found += _devfreq_accelerators(root, skip_gpu=bool(nvml and nvml.gpus))
    return tuple(found)


def _accel_nodes(root: Path) -> list[Accelerator]:
    """Linux accel subsystem (/dev/accel/accelN): Intel NPU, AMD XDNA, Habana..."""
    dev = under(root, "/dev")
    nodes = sorted_glob(dev / "accel", "accel*") + [p for p in sorted_glob(dev, "accel*") if not p.is_dir()]
    found = []
    for node in nodes:
        driver_link = under(root, f"/sys/class/accel/{node.name}/device/driver")
        driver = driver_link.resolve().name if driver_link.exists() else None
        found.append(
            Accelerator(
                "npu",
                f"accel device ({driver or 'driver unknown'})",
                "/dev node",
                "/" + str(node.relative_to(root)),
                detail=driver,
            )
        )
    return found


def _named_nodes(root: Path) -> list[Accelerator]:
    dev = under(root, "/dev")
    patterns = (
        ("apex_*", "tpu", "Google Coral Edge TPU (PCIe/M.2)"),
        ("hailo*", "npu", "Hailo NPU"),
        ("rknpu*", "npu", "Rockchip NPU"),
    )
    return [
        Accelerator(kind, name, "/dev node", "/" + str(node.relative_to(root)))
        for pattern, kind, name in patterns
        for node in sorted_glob(dev, pattern)
    ]


def _coral_usb(root: Path) -> list[Accelerator]:
    found = []
    for device in sorted_glob(under(root, "/sys/bus/usb/devices"), "*"):
        ids = (read_text(device / "idVendor") or "", read_text(device / "idProduct") or "")
        if ids in _CORAL_USB_IDS:
            found.append(
                Accelerator(
                    "tpu",
                    "Google Coral USB Accelerator",
                    "usb",
                    "/" + str(device.relative_to(root)),
                    detail=f"usb id {ids[0]}:{ids[1]}",
                )
            )
    return found


def _jetson_dla(root: Path) -> list[Accelerator]:
    nodes = [d for d in sorted_glob(under(root, "/sys/bus/platform/devices"), "*") if ".nvdla" in d.name]
    # Order by DLA index, not by bus address (158c0000.nvdla1 sorts before 15880000.nvdla0).
    indexed = sorted((d.name.rsplit("nvdla", 1)[-1], d) for d in nodes)
    return [Accelerator("dla", f"NVIDIA DLA {index}", "sysfs", "/" + str(d.relative_to(root))) for index, d in indexed]


def _devfreq_accelerators(root: Path, *, skip_gpu: bool) -> list[Accelerator]:
    """Integrated GPUs/NPUs without NVML (Jetson ga10b/gv11b/gp10b, Mali, Rockchip NPU) show up in devfreq."""
    found = []
    for device in sorted_glob(under(root, "/sys/class/devfreq"), "*"):
        name = device.name.lower()
        if any(tag in name for tag in ("gpu", "ga10b", "gv11b", "gp10b", "gm20b", "mali")):
            if not skip_gpu:
                found.append(
                    Accelerator("gpu", f"integrated GPU {device.name}", "devfreq", "/" + str(device.relative_to(root)))
                )
        elif "npu" in name:
            found.append(Accelerator("npu", f"NPU {device.name}", "devfreq", "/" + str(device.relative_to(root))))
    return found
