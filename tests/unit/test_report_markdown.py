"""The guide's tables in Markdown, from records only: right cells in the right columns, dashes where unmeasured."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from edgebench.records import RunRecord
from edgebench.reporters import fields, markdown
from edgebench.reporters.document import ReportInput
from edgebench.reporters.units import DASH
from tests.unit.report_records import HOSTILE, suite, variant


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[RunRecord]:
    from tests.conftest import make_onnx

    return suite(make_onnx(tmp_path_factory.mktemp("m") / "tiny.onnx"))


def rows_of(text: str, first_cell: str) -> list[list[str]]:
    """Cells of the table rows whose first cell is ``first_cell`` (unescaping `\\|` is not needed here)."""
    out = []
    for line in text.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if cells[0] == first_cell:
                out.append(cells)
    return out


def column(columns: tuple[str, ...], row: list[str], name: str) -> str:
    return row[columns.index(name)]


def test_profiling_table_puts_each_fact_in_its_column(records: list[RunRecord]) -> None:
    text = markdown.profiling_table(records)
    (fp32,) = rows_of(text, "resnet50.onnx")
    cols = markdown.PROFILING_COLUMNS
    assert column(cols, fp32, "Bit-Width (W/A)") == "FP32"
    assert column(cols, fp32, "Top-1 Accuracy") == "75.0%" and column(cols, fp32, "Top-5 Accuracy") == "92.0%"
    assert column(cols, fp32, "Depth") == "53"
    assert column(cols, fp32, "Energy (mJ/inf)") == "2.1"  # 0.0021 J measured by the (recorded) RAPL reading
    assert column(cols, fp32, "Latency (ms) (GPU)") == DASH  # ran on the CPU
    median_ms = records[0].summary.latency_median_s * 1e3  # type: ignore[union-attr]
    assert float(column(cols, fp32, "Latency (ms) (CPU)")) == pytest.approx(median_ms, rel=5e-3)
    (other,) = rows_of(text, "mobilenet.onnx")
    assert column(cols, other, "Top-1 Accuracy") == DASH and column(cols, other, "Energy (mJ/inf)") == DASH
    assert len([line for line in text.splitlines() if line.startswith("| ")]) == 1 + 4  # header + 4 ok records


def test_gpu_latency_goes_in_the_gpu_column(records: list[RunRecord]) -> None:
    from edgebench._frozen import FrozenMap

    gpu = replace(records[0], effective=FrozenMap({"providers": ["CUDAExecutionProvider", "CPUExecutionProvider"]}))
    (row,) = rows_of(markdown.profiling_table([gpu]), "resnet50.onnx")
    cols = markdown.PROFILING_COLUMNS
    assert column(cols, row, "Latency (ms) (CPU)") == DASH and column(cols, row, "Latency (ms) (GPU)") != DASH
    assert fields.device(gpu) == "GPU"


def test_optimization_table_pairs_fp32_and_int8_of_one_model(records: list[RunRecord]) -> None:
    text = markdown.optimization_table(records)
    rows = rows_of(text, "resnet50")
    cols = markdown.OPTIMIZATION_COLUMNS
    assert [column(cols, r, "Bit-Width (W/A)") for r in rows] == ["FP32", "W8/A8"]  # FP32 first
    assert column(cols, rows[0], "Latency vs FP32") == "1 (baseline)"
    assert column(cols, rows[1], "Latency vs FP32") == "0.50×"  # the INT8 twin's samples are scaled by 0.5
    assert column(cols, rows[1], "Size (MB)") == "1.0"
    # models measured at one bit width only are not in the table
    assert not rows_of(text, "mobilenet") and HOSTILE not in text


def test_optimization_groups_by_family_tag_when_names_do_not_say(records: list[RunRecord]) -> None:
    a = variant(records[0], "model_a.onnx", created_at="2026-12-01T11:00:00Z", tags=("family=detector",))
    b = variant(records[0], "compressed.onnx", created_at="2026-12-01T11:01:00Z", bit_width="W8/A8",
                tags=("family=detector",))  # fmt: skip
    assert [len(g) for g in markdown.optimization_rows([a, b])] == [2]
    assert markdown.optimization_rows([replace(a, spec=replace(a.spec, tags=())), b]) == []


@pytest.mark.parametrize(
    ("name", "family"),
    [("resnet50_int8.onnx", "resnet50"), ("resnet50-fp16.onnx", "resnet50"), ("mobilenet_v2_quant_int8.tflite",
     "mobilenet_v2"), ("int8.onnx", "int8"), ("yolo.onnx", "yolo")],
)  # fmt: skip
def test_family_strips_precision_suffixes(records: list[RunRecord], name: str, family: str) -> None:
    r = variant(records[0], name, created_at="2026-12-01T11:00:00Z")
    assert fields.family(r) == family


def test_target_device_row_per_host_with_run_figures(records: list[RunRecord]) -> None:
    text = markdown.target_device_table(records, {})
    from edgebench.platform.report import TARGET_DEVICE_COLUMNS as cols

    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(lines) == 1 + 2  # header + the two hosts
    vm = next(line for line in lines if line.startswith(f"| {records[0].environment.hostname}:"))
    cells = [c.strip() for c in vm.strip("|").split(" | ")]
    assert column(cols, cells, "Power (W)") == "8.40 W (rapl package-0)"  # from the record whose energy was measured
    assert column(cols, cells, "Temperature (°C)") == "61.0 °C (max during run)"
    pi = next(line for line in lines if line.startswith("| pi5:"))
    assert column(cols, [c.strip() for c in pi.strip("|").split(" | ")], "Power (W)") == DASH


def test_target_device_uses_the_platform_record_when_stored(records: list[RunRecord]) -> None:
    import edgebench

    platform = edgebench.characterize(quick=True)
    host = records[0].environment.hostname
    text = markdown.target_device_table(records, {host: platform})
    expected_first = markdown.cell(platform.target_device_cells()[0])
    assert f"| {expected_first} |" in text


def test_environments_block_lists_each_machine_and_the_method(records: list[RunRecord]) -> None:
    text = markdown.environments_block(records)
    assert text.startswith("**Test environments**")
    assert text.count("Environment ") == 2  # the vm and the pi5
    assert "- Runtimes: " in text and "fake 1" in text
    assert records[0].summary.ci_method in text  # type: ignore[union-attr]
    assert "- Batch size: 1" in text


def test_full_report_escapes_user_strings_and_lists_failures(records: list[RunRecord]) -> None:
    text = markdown.report(ReportInput(records=tuple(records), selection="all records", generated_at="T"))
    for heading in ("## Bench Table", "## Profiling Metrics", "## Optimization", "## Target Device",
                    "## Test environments", "## Failed runs"):  # fmt: skip
        assert heading in text
    assert HOSTILE not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "worker crashed \\| signal 9" in text  # a pipe in a message never splits a table row
    # every table row has as many cells as its header
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            widths = {len(line.replace("\\|", "").strip("|").split("|")) for line in lines}
            assert len(widths) == 1, block


def test_report_without_measured_records_says_so(records: list[RunRecord]) -> None:
    text = markdown.report(ReportInput(records=(records[-1],)))
    assert "No measured record in the selection." in text and "## Failed runs" in text


def test_missing_values_are_dashes_never_zeros(records: list[RunRecord]) -> None:
    bare = replace(records[0], analysis=None, accuracy=None, energy=None, model=None)
    (row,) = rows_of(markdown.profiling_table([bare]), Path(bare.spec.model).name)
    cols = markdown.PROFILING_COLUMNS
    for name in ("Params", "Depth", "Top-1 Accuracy", "Energy (mJ/inf)", "Compute (GFLOPs)", "Bit-Width (W/A)"):
        assert column(cols, row, name) == DASH, name
