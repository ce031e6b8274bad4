"""Benchmark sweeps: a YAML/TOML matrix of jobs (config), its expansion and keys (plan), and the resumable runner.

See docs/sweeps.md; the CLI is cli/sweep.py.
"""
