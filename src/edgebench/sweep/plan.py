"""Plan expansion: the sweep file's axes → one RunSpec per job, and each job's key.

The key of a job is ``spec_hash`` of its *resolved* spec: every measured field plus the model's content
hash, so editing the model file or a time setting makes a new job, while renaming a label does not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from pathlib import Path

from edgebench.errors import EdgebenchError, UsageError
from edgebench.protocols import Job
from edgebench.records import RunSpec, spec_hash
from edgebench.sweep.config import BackendAxis, Rule, ScenarioAxis, SweepConfig, default_scenario

AXES = ("model", "backend", "threads", "batch", "precision", "scenario", "dataset")
AxisValue = str | int | None


@dataclass(frozen=True)
class PlannedJob:
    """One point of the sweep: its axis values (for display and rules) and the spec that measures it."""

    index: int
    axes: tuple[tuple[str, AxisValue], ...]  # in AXES order
    spec: RunSpec
    job: Job | None = None  # resolved: model located and hashed
    key: str | None = None  # spec_hash of the resolved spec; None when it could not be resolved
    problem: EdgebenchError | None = None  # why it could not be resolved (becomes a failed record)

    def axis(self, name: str) -> AxisValue:
        return dict(self.axes)[name]

    def label(self) -> str:
        """``model · backend · threads=2 · batch=1`` (+ precision, scenario, dataset when not the default)."""
        quiet = {"precision": "fp32", "scenario": default_scenario(), "dataset": None}
        parts = [str(self.axis("model")), str(self.axis("backend"))]
        parts += [f"{k}={v}" for k, v in self.axes if k in ("threads", "batch") and v is not None]
        parts += [f"{k}={v}" for k, v in self.axes if k in quiet and v != quiet[k]]
        return " · ".join(parts)


@dataclass(frozen=True)
class Plan:
    config: SweepConfig
    jobs: tuple[PlannedJob, ...]
    excluded: int
    included: int
    dynamic_batch: bool


def expand(config: SweepConfig) -> Plan:
    """Product of the axes in file order, minus ``exclude``, plus ``include``; duplicates dropped."""
    points = [p for p in _product(config) if not any(_matches(rule, p) for rule in config.exclude)]
    excluded = sum(1 for _ in _product(config)) - len(points)
    included = 0
    for rule in config.include:
        point = _included_point(config, rule)
        if point not in points:
            points.append(point)
            included += 1
    dynamic = config.run.dynamic_batch
    if dynamic is None:
        dynamic = any(p["batch"] is not None for p in points)
    jobs = tuple(PlannedJob(i, _axes(config, p), _spec(config, p)) for i, p in enumerate(_unique(points)))
    return Plan(config, jobs, excluded, included, dynamic)


Point = dict[str, AxisValue]
_INDEX = "backend_index"  # which entry of `backends` (two entries may share a name, with other options)


def _axes(config: SweepConfig, point: Point) -> tuple[tuple[str, AxisValue], ...]:
    """The point's axis values for display: a backend named twice in the file shows as ``name[i]``."""
    name = point["backend"]
    index = point.get(_INDEX)
    shared = sum(1 for b in config.backends if b.name == name) > 1
    shown = f"{name}[{index}]" if shared and isinstance(index, int) and index >= 0 else name
    return tuple((a, shown if a == "backend" else point[a]) for a in AXES)


def _product(config: SweepConfig) -> list[Point]:
    points: list[Point] = []
    for model, (index, backend) in itertools.product(config.models, enumerate(config.backends)):
        threads = backend.threads if backend.threads is not None else config.threads
        precisions = backend.precisions if backend.precisions is not None else config.precisions
        for t, b, p, s, d in itertools.product(
            threads, config.batch_sizes, precisions, config.scenarios, config.datasets
        ):
            points.append({**_point(model, backend.name, t, b, p, s.name, d), _INDEX: index})
    return points


def _point(
    model: str, backend: str, threads: int | None, batch: int | None, precision: str, scenario: str, dataset: str | None
) -> Point:
    return {
        "model": model,
        "backend": backend,
        "threads": threads,
        "batch": batch,
        "precision": precision,
        "scenario": scenario,
        "dataset": dataset,
    }


def _matches(rule: Rule, point: Point) -> bool:
    return all(point[k] == v for k, v in rule.given().items())


def _included_point(config: SweepConfig, rule: Rule) -> Point:
    given = rule.given()
    name = str(given.get("backend", config.backends[0].name))
    index = next((i for i, b in enumerate(config.backends) if b.name == name), -1)
    backend = config.backends[index] if index >= 0 else BackendAxis(name=name)
    threads = backend.threads if backend.threads is not None else config.threads
    precisions = backend.precisions if backend.precisions is not None else config.precisions
    first: Point = _point(
        config.models[0],
        backend.name,
        threads[0],
        config.batch_sizes[0],
        precisions[0],
        config.scenarios[0].name,
        config.datasets[0],
    )
    return {**first, **given, _INDEX: index}  # type: ignore[dict-item]


def _backend_axis(config: SweepConfig, point: Point) -> BackendAxis:
    index = point.get(_INDEX)
    if isinstance(index, int) and index >= 0:
        return config.backends[index]
    return BackendAxis(name=str(point["backend"]))


def _scenario_axis(config: SweepConfig, name: str) -> ScenarioAxis:
    return next((s for s in config.scenarios if s.name == name), ScenarioAxis(name=name))


def _unique(points: list[Point]) -> list[Point]:
    seen: list[Point] = []
    for p in points:
        if p not in seen:
            seen.append(p)
    return seen


def _spec(config: SweepConfig, point: Point) -> RunSpec:
    from edgebench._frozen import FrozenMap

    run = config.run
    backend = _backend_axis(config, point)
    scenario = _scenario_axis(config, str(point["scenario"]))
    threads, batch = point["threads"], point["batch"]
    return RunSpec(
        model=str(point["model"]),
        backend=backend.name,
        threads=int(threads) if threads is not None else None,
        batch=int(batch) if batch is not None else None,
        inputs_file=str(point["dataset"]) if point["dataset"] is not None else None,
        warmup_time_s=run.warmup_time_s,
        min_time_s=run.min_time_s,
        max_time_s=run.max_time_s,
        min_iters=run.min_iters,
        target_ci=run.target_ci,
        seed=run.seed,
        processes=config.rounds if config.rounds > 1 else run.processes,
        runtime_log_level=run.runtime_log_level,
        precision=point["precision"],  # type: ignore[arg-type]
        scenario=scenario.name,
        scenario_options=FrozenMap(scenario.options),
        backend_options=FrozenMap(backend.options),
        collectors=tuple(run.collectors),
        tags=tuple(config.tags),
    )


def validate(plan: Plan, *, force: bool = False) -> Plan:
    """Every job's spec checked before anything runs; the first bad one aborts with the job named."""
    from edgebench.engine.validate import validate_spec

    if not plan.jobs:  # every combination excluded: running would store nothing and still "succeed"
        raise UsageError(
            f"sweep {plan.config.name!r} has no jobs ({plan.excluded} excluded by its `exclude` rules)",
            hint="loosen `exclude`, add axis values or add an `include` rule",
        )
    checked = []
    for job in plan.jobs:
        try:
            checked.append(replace(job, spec=validate_spec(job.spec, force=force)))
        except UsageError as exc:
            raise UsageError(f"sweep job {job.index + 1} ({job.label()}): {exc.message}", hint=exc.hint) from exc
    return replace(plan, jobs=tuple(checked))


def resolve(plan: Plan, cache_dir: Path | None) -> Plan:
    """Locate and hash each job's model (zoo export on first use): this gives every job its key.

    A model that cannot be had (missing file, a format the backend cannot load) does not stop the
    sweep: that job carries the problem and becomes a failed record when the sweep runs.
    """
    from edgebench.engine.bench import make_job

    resolved = []
    for job in plan.jobs:
        try:
            made = make_job(job.spec, cache_dir, plan.dynamic_batch)
        except EdgebenchError as exc:
            resolved.append(replace(job, problem=exc))
            continue
        resolved.append(replace(job, spec=made.spec, job=made, key=spec_hash(made.spec)))
    return replace(plan, jobs=tuple(resolved))
