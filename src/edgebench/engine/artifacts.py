"""Artifacts: files a run produced, kept under the data dir by content hash and listed in the record.

The worker writes them into its temporary job directory; the executor publishes them (copies to
``<data dir>/artifacts/<sha256>/<name>``) before the temporary directory goes away, so a record
never points into a deleted folder.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from edgebench.modelfile import sha256_file
from edgebench.records import Artifact, RunRecord


def default_root() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("edgebench")) / "artifacts"


def describe(path: Path, role: str, media_type: str, summary: str | None = None) -> Artifact:
    return Artifact(role, media_type, path.name, sha256_file(path), path.stat().st_size, str(path), summary)


def publish(record: RunRecord, root: Path | None = None) -> RunRecord:
    """Copy every artifact that still lives in a temporary dir into the content-addressed store."""
    if not record.artifacts:
        return record
    root = root or default_root()
    kept = []
    for art in record.artifacts:
        dest = root / art.sha256 / art.name
        src = Path(art.path)
        if src != dest and src.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                tmp = dest.with_name(dest.name + ".tmp")
                shutil.copyfile(src, tmp)
                tmp.replace(dest)
        kept.append(replace(art, path=str(dest)))
    return replace(record, artifacts=tuple(kept))
