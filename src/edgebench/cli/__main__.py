"""``python -m edgebench.cli``."""

from edgebench.cli import main

main()
