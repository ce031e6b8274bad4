"""Accuracy on real data: datasets, preprocessing presets, top-1/top-5 with Wilson CIs, output agreement.

Stable names (docs/accuracy.md): :func:`builtin_samples` (the seven built-in photos, preprocessed),
:func:`agreement` (two output arrays → :class:`OutputAgreement`), :func:`evaluate` (a model on a
dataset through any backend → :class:`Evaluation`), :func:`wilson`, :func:`representative_set`
(seeded augmentations, calibration and evaluation disjoint). numpy and the runtimes are imported
inside the functions that use them.
"""

from __future__ import annotations

from edgebench.accuracy.evaluate import Evaluation, Prediction, evaluate
from edgebench.accuracy.metrics import wilson
from edgebench.accuracy.preprocess import PRESETS, Preset
from edgebench.accuracy.representative import Augmentation, representative_set
from edgebench.accuracy.samples import BUILTIN, Sample, builtin_samples
from edgebench.engine.agreement import AgreementStats, OutputAgreement
from edgebench.engine.agreement import output_agreement as agreement

__all__ = [
    "BUILTIN",
    "PRESETS",
    "AgreementStats",
    "Augmentation",
    "Evaluation",
    "OutputAgreement",
    "Prediction",
    "Preset",
    "Sample",
    "agreement",
    "builtin_samples",
    "evaluate",
    "representative_set",
    "wilson",
]
