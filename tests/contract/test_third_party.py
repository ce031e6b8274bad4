"""A backend shipped by another distribution: found through its entry point, listed, benchmarked;
a malformed one is refused in one line that names the plugin and the rule it breaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import make_onnx

PLUGIN = """
from pydantic import BaseModel, ConfigDict, Field

from edgebench.backends.fake import FakeBackend, FakeSession


class Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    speed: float = Field(1.0, gt=0, description="how fast the toy runs")


class ToyBackend:
    name = "toy"
    formats = ("onnx",)
    Options = Options

    def load(self, model_path, spec, options):
        inner = FakeBackend.Options(latency_s=0.002 / options.speed, distribution="constant")
        return FakeSession(inner, spec.seed, ([], []))

    def versions(self):
        return {"toy": "0.1"}


class BrokenBackend:
    name = "broken"
    formats = "onnx"
    Options = Options
    load = 3

    def versions(self):
        return None
"""


def _install(site: Path) -> None:
    """A real installed distribution: a package plus its .dist-info with entry_points.txt."""
    (site / "toyplugin").mkdir(parents=True)
    (site / "toyplugin" / "__init__.py").write_text(PLUGIN)
    info = site / "toyplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""\
        [edgebench.backends]
        toy = toyplugin:ToyBackend
        broken = toyplugin:BrokenBackend
        """)
    )
    (info / "RECORD").write_text("")


def _cli(site: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_DATA_HOME": str(tmp / "data"), "XDG_CACHE_HOME": str(tmp / "c")}
    return subprocess.run(
        [sys.executable, "-m", "edgebench.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_third_party_backend_is_listed_benchmarked_and_a_broken_one_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _install(site)
    listed = _cli(site, tmp_path, "backends", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["toy"]["formats"] == ["onnx"] and rows["toy"]["distribution"] == "toyplugin 0.1"
    assert rows["toy"]["options"][0]["name"] == "speed"
    assert rows["broken"]["runtime"].startswith("unavailable: plugin 'broken'")

    model = make_onnx(tmp_path / "m.onnx")
    ran = _cli(
        site,
        tmp_path,
        "bench",
        str(model),
        "--backend",
        "toy",
        "--backend-option",
        "speed=2",
        "--processes",
        "1",
        "--warmup-time",
        "0",
        "--min-time",
        "0.01",
        "--min-iters",
        "5",
        "--json",
    )
    assert ran.returncode == 0, ran.stderr
    record = json.loads(ran.stdout)
    assert record["spec"]["backend_options"] == {"speed": 2.0}
    assert record["summary"]["latency_median_s"] == pytest.approx(0.001)

    bad_option = _cli(site, tmp_path, "bench", str(model), "--backend", "toy", "--backend-option", "speed=0")
    assert bad_option.returncode == 2 and bad_option.stderr.strip().startswith("Error: toy.speed: must be > 0")

    broken = _cli(site, tmp_path, "bench", str(model), "--backend", "broken")
    lines = broken.stderr.strip().splitlines()
    assert broken.returncode == 5 and len(lines) == 1 and "Traceback" not in broken.stderr
    assert lines[0].startswith(
        "Error: plugin 'broken' in edgebench.backends breaks its contract: load must be a method"
    )
