"""Per-operator compute formulas, written by hand: the counting convention lives here.

Convention (also in docs/analysis.md):

* A MAC is one multiply-accumulate; FLOPs = 2 × MACs.
* Only the tensor contractions count as MACs: convolution (incl. grouped, depthwise, dilated,
  transposed), Gemm / MatMul / FullyConnected (batched), Einsum and recurrent cells. Bias adds are
  excluded from MACs (paper / torchvision convention) and reported as "other ops".
* Everything else that computes (element-wise arithmetic, activations, normalization, pooling,
  softmax, interpolating resize, (de)quantization) is counted as "other ops": a fixed number of
  operations per element, see ``OPS_PER_ELEMENT``. Pure data movement counts zero.

Frontends (ONNX, TFLite) translate their layouts to these functions; the functions only see ints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

Shape = tuple[int, ...]

# Operations per output element for the non-MAC kinds. One per element unless the kind needs a
# fixed extra pass; the numbers are a convention, stated so totals can be recomputed.
OPS_PER_ELEMENT: dict[str, int] = {
    "elementwise": 1,  # Add, Mul, Max, comparisons... one op per output element
    "activation": 1,  # ReLU, Sigmoid, Clip, HardSwish, Erf... one op per element, whatever its cost
    "quantize": 1,  # (De)QuantizeLinear: one scale-and-round per element
    "batchnorm": 2,  # inference BatchNorm = per-channel scale and shift
    "normalization": 5,  # Layer/Instance/Group norm: mean, subtract, square-sum, normalize, affine
    "softmax": 3,  # exp, running sum, divide (the max-subtraction is not counted)
    "reduce": 1,  # ReduceMean/Sum/Max, global pooling, ArgMax: one op per *input* element
    "data": 0,  # Reshape, Transpose, Concat, Gather, Pad, Cast...: data movement only
}


def numel(shape: Sequence[int]) -> int:
    """Number of elements of a static shape (1 for a scalar)."""
    return math.prod(shape)


def conv_output_size(
    in_size: int, kernel: int, stride: int = 1, dilation: int = 1, pad_begin: int = 0, pad_end: int = 0
) -> int:
    """Output length of one spatial axis of a convolution or pooling window (floor mode)."""
    effective_kernel = dilation * (kernel - 1) + 1
    return (in_size + pad_begin + pad_end - effective_kernel) // stride + 1


def conv_macs(
    batch: int,
    out_channels: int,
    out_spatial: Sequence[int],
    in_channels: int,
    kernel: Sequence[int],
    groups: int = 1,
) -> int:
    """Each output element reads ``in_channels / groups × prod(kernel)`` inputs.

    Strides, padding and dilation only enter through ``out_spatial``; depthwise is ``groups ==
    in_channels``.
    """
    if groups <= 0 or in_channels % groups or out_channels % groups:
        raise ValueError(f"channels ({in_channels}→{out_channels}) not divisible by groups={groups}")
    return batch * out_channels * numel(out_spatial) * (in_channels // groups) * numel(kernel)


def conv_transpose_macs(
    batch: int,
    in_channels: int,
    in_spatial: Sequence[int],
    out_channels: int,
    kernel: Sequence[int],
    groups: int = 1,
) -> int:
    """A transposed conv scatters every *input* element onto ``out_channels / groups × kernel``."""
    if groups <= 0 or in_channels % groups or out_channels % groups:
        raise ValueError(f"channels ({in_channels}→{out_channels}) not divisible by groups={groups}")
    return batch * in_channels * numel(in_spatial) * (out_channels // groups) * numel(kernel)


def gemm_macs(a_shape: Sequence[int], b_shape: Sequence[int], trans_a: bool = False, trans_b: bool = False) -> int:
    """ONNX Gemm: (M×K) · (K×N) = M·K·N MACs; alpha/beta scaling and the C add are not MACs."""
    if len(a_shape) != 2 or len(b_shape) != 2:
        raise ValueError(f"Gemm needs 2-D operands, got {tuple(a_shape)} and {tuple(b_shape)}")
    m, k = (a_shape[1], a_shape[0]) if trans_a else (a_shape[0], a_shape[1])
    k_b, n = (b_shape[1], b_shape[0]) if trans_b else (b_shape[0], b_shape[1])
    if k != k_b:
        raise ValueError(f"Gemm inner dimensions differ: {k} vs {k_b}")
    return m * k * n


def matmul_macs(a_shape: Sequence[int], b_shape: Sequence[int]) -> int:
    """numpy.matmul semantics: 1-D operands are promoted, leading (batch) dims broadcast."""
    a, b = list(a_shape), list(b_shape)
    if not a or not b:
        raise ValueError("MatMul operands must have rank >= 1")
    if len(a) == 1:
        a = [1, *a]
    if len(b) == 1:
        b = [*b, 1]
    if a[-1] != b[-2]:
        raise ValueError(f"MatMul inner dimensions differ: {a[-1]} vs {b[-2]}")
    batch = numel(broadcast_shapes(a[:-2], b[:-2]))
    return batch * a[-2] * a[-1] * b[-1]


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """numpy broadcasting of static shapes (raises ValueError when incompatible)."""
    rank = max((len(s) for s in shapes), default=0)
    result: list[int] = []
    for axis in range(rank):
        sizes = {s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {[tuple(s) for s in shapes]} do not broadcast")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def einsum_macs(equation: str, shapes: Sequence[Sequence[int]]) -> int:
    """A two-operand einsum costs one MAC per point of the joint index space.

    Example: ``"bhqd,bhkd->bhqk"`` (attention scores) = b·h·q·k·d.
    """
    inputs = equation.replace(" ", "").split("->")[0].split(",")
    if len(inputs) != len(shapes) or len(inputs) != 2 or "..." in equation:
        raise ValueError(f"only explicit two-operand einsum is counted, got {equation!r}")
    sizes: dict[str, int] = {}
    for letters, shape in zip(inputs, shapes, strict=True):
        if len(letters) != len(shape):
            raise ValueError(f"einsum term {letters!r} does not match shape {tuple(shape)}")
        for letter, size in zip(letters, shape, strict=True):
            sizes[letter] = max(sizes.get(letter, 1), size)
    return numel(list(sizes.values()))


_RNN_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def rnn_macs(kind: str, seq_len: int, batch: int, input_size: int, hidden: int, directions: int = 1) -> int:
    """Input and recurrent projections of every gate at every time step (bias excluded)."""
    gates = _RNN_GATES[kind]
    return directions * seq_len * batch * gates * hidden * (input_size + hidden)


def pool_ops(output_elements: int, kernel: Sequence[int]) -> int:
    """Windowed pooling: one compare/add per window element per output element."""
    return output_elements * numel(kernel)


def resize_ops(output_elements: int, mode: str, resized_axes: int) -> int:
    """Nearest is a copy (0); linear blends 2 taps per resized axis, cubic 4."""
    taps = {"nearest": 0, "linear": 2, "cubic": 4}[mode]
    return 0 if taps == 0 else output_elements * taps**resized_axes


def elementwise_ops(elements: int, kind: str) -> int:
    """Other ops of a non-MAC kind (see ``OPS_PER_ELEMENT``)."""
    return elements * OPS_PER_ELEMENT[kind]


def flops(macs: int) -> int:
    """FLOPs = 2 × MACs (one multiply plus one add)."""
    return 2 * macs


_EINSUM_TERM = re.compile(r"^[a-zA-Z]*$")


def is_simple_einsum(equation: str) -> bool:
    """True for the explicit two-operand form that ``einsum_macs`` counts."""
    parts = equation.replace(" ", "").split("->")
    terms = parts[0].split(",")
    return len(parts) == 2 and len(terms) == 2 and all(_EINSUM_TERM.match(t) for t in [*terms, parts[1]])
