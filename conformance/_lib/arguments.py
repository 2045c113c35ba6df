"""Argument types shared by the command lines: a count parsed with one clear message when it is not one."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["MAX_WORKERS", "count_of"]

# Processes at once (run --workers, mutation-score --workers): each starts a Python with the suite
# (or a whole reference instance), so beyond this only start-up time and memory grow.
MAX_WORKERS = 32


def count_of(unit: str, *, most: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number of ``unit`` from 1 to ``most``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number of {unit}, not {text!r}") from None
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"must be 1 to {most}, not {value}")
        return value

    return parse
