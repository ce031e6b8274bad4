"""``python -m edgebench.engine.worker JOB RESULT`` — the fresh process that measures one spec."""

from __future__ import annotations

import sys
from pathlib import Path

from edgebench.engine.launcher import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(Path(sys.argv[1]), Path(sys.argv[2])))
