"""The converter extension point (entry-point group ``edgebench.converters``) and what a conversion records.

A converter turns one model file into another format: ``convert(source, out, options)``. It names the
formats it reads (``sources``), the format it writes, the pip extra that provides its tool, and reports
that tool's version (raising :class:`~edgebench.errors.BackendUnavailable` naming the extra when the
tool is missing). Routing, caching, timing, hashing and the numerical check are the caller's
(:mod:`edgebench.convert`), so a converter stays one short function around its tool.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from edgebench.options import strict_config

# Formats that hold a PyTorch module (read by the torch-side converters).
TORCH_FORMATS = ("pyfactory", "torchscript", "exported_program")


class ConvertOptions(BaseModel):
    """Settings of one conversion; part of the cache key (a different setting is a different artifact)."""

    model_config = strict_config()

    opset: int = Field(default=17, ge=7, le=23, description="ONNX opset of the torch → ONNX export")
    dynamic_batch: bool = Field(default=False, description="ONNX export with a symbolic batch dimension")
    exporter: str = Field(
        default="legacy", pattern=r"^(legacy|dynamo)$", description="torch.onnx exporter (dynamo: onnxscript)"
    )
    keep_io_types: bool = Field(default=True, description="FP16 ONNX: keep float32 inputs/outputs (casts inside)")
    compress_to_fp16: bool = Field(default=False, description="OpenVINO IR: store weights as FP16 (default FP32)")
    shapes: dict[str, tuple[int, ...]] = Field(
        default_factory=dict, description="input shapes for sources that do not record them (NAME → dims)"
    )


@runtime_checkable
class Converter(Protocol):
    name: ClassVar[str]  # the target, e.g. "onnx-fp16"
    sources: ClassVar[tuple[str, ...]]  # edgebench.formats names it reads
    output_format: ClassVar[str]
    suffix: ClassVar[str]  # of the main output file
    extra: ClassVar[str]  # `pip install edgebench[<extra>]` provides the tool

    def tool(self) -> tuple[str, str]: ...

    def convert(self, source: Path, out: Path, options: ConvertOptions) -> None: ...


@dataclass(frozen=True)
class NumericCheck:
    """Outputs of the converted model against the source's on the same inputs."""

    inputs: str  # "builtin-images(7, tf, 224)" or "random(seed=0, n=4)"
    samples: int
    max_abs_diff: float | None
    top1_agreement: float | None
    cosine: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class FileFacts:
    path: str
    format: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Conversion:
    """One conversion as recorded: tool, time, input and output facts, check, and the steps before it."""

    target: str
    tool: str
    tool_version: str
    seconds: float  # this step's conversion time ("deployment time" in the guide's playbook)
    source: FileFacts
    output: FileFacts
    options: dict[str, Any]
    check: NumericCheck | None = None
    cached: bool = False
    steps: tuple[Conversion, ...] = ()  # earlier conversions this one started from (torch → onnx → …)

    @property
    def total_seconds(self) -> float:
        return self.seconds + sum(s.total_seconds for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_seconds"] = round(self.total_seconds, 6)
        return data


def conversion_from_dict(data: dict[str, Any]) -> Conversion:
    fields = {k: v for k, v in data.items() if k in Conversion.__dataclass_fields__}
    fields["source"] = FileFacts(**fields["source"])
    fields["output"] = FileFacts(**fields["output"])
    fields["check"] = NumericCheck(**fields["check"]) if fields.get("check") else None
    fields["steps"] = tuple(conversion_from_dict(s) for s in fields.get("steps") or ())
    return Conversion(**fields)
