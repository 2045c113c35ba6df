"""Argument types shared by the command lines: a count parsed with one clear message when it is not one."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["count_of"]


def count_of(unit: str, *, most: int | None = None, note: str = "") -> Callable[[str], int]:
    """An argparse ``type`` for a whole number of ``unit`` from 1 (to ``most``, when given); ``note``
    follows "at least 1" in the message for a number below 1."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number of {unit}, not {text!r}") from None
        if most is not None and not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"must be 1 to {most}, not {value}")
        if value < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1{note}, not {value}")
        return value

    return parse
