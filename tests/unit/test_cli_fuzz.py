"""[hardening] Property: whatever a user types, `bench` exits with a documented code, never prints a
traceback, and leaves a database that passes PRAGMA integrity_check."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgebench.cli import main
from tests.conftest import make_onnx

DOCUMENTED = {0, 2, 3, 4, 5, 6, 7}
FLOATS = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e300", "-0.0", "abc", "", "0.01", "0.02"])
INTS = st.sampled_from(["-1", "0", "1", "3", "1.5", "x", "99999999999999999999", "10"])
SHAPES = st.sampled_from(["x=1x16", "x=0x16", "x=-4x16", "x=1x3x-4x4", "x=axb", "=1", "x=", "y=1x16", "x=2x16"])
PATHS = st.sampled_from(["missing.onnx", ".", "empty.onnx", "text.onnx", "model.onnx", "/dev/null"])
OPTION = st.one_of(
    st.tuples(st.sampled_from(["--warmup-time", "--min-time", "--max-time", "--target-ci", "--max-input-mb"]), FLOATS),
    st.tuples(st.sampled_from(["--threads", "--batch", "--batch-dim", "--seed", "--processes", "--min-iters"]), INTS),
    st.tuples(st.just("--shape"), SHAPES),
    st.tuples(st.just("--inputs"), PATHS),
    st.tuples(st.just("--backend-option"), st.sampled_from(["sigma=-1", "sigma=0.1", "nope=1", "crash=run", "x"])),
)


def _run(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["edgebench", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return code, out.getvalue() + err.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=PATHS, options=st.lists(OPTION, max_size=4))
def test_any_bench_command_line_is_handled(model: str, options: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_onnx(root / "model.onnx")
        (root / "empty.onnx").touch()
        (root / "text.onnx").write_text("not a model")
        db = root / "results.db"
        flat = [part for opt in options for part in opt]
        args = [
            "bench",
            model if model.startswith("/") else str(root / model),
            "--backend",
            "fake",
            "--executor",
            "inline",
            "--db",
            str(db),
            "--max-time",
            "0.05",
            "--min-time",
            "0.01",
            "--warmup-time",
            "0",
            "--min-iters",
            "5",
            *flat,
        ]
        code, output = _run(args)
        assert code in DOCUMENTED, (args, code, output)
        assert "Traceback" not in output, (args, output)
        if code not in (0,):
            errors = [line for line in output.splitlines() if line.startswith("Error: ")]
            assert len(errors) == 1, (args, output)
        if db.exists():
            with sqlite3.connect(db) as con:
                assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                if code in (2, 3, 4, 5):  # user errors store nothing
                    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
