"""Kubernetes resource quantities (``100m``, ``256Mi``, ``1e3``) as exact numbers, with the API server's errors."""

from __future__ import annotations

import re
from fractions import Fraction

PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
SYNTAX = re.compile(PATTERN)
SUFFIXES = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
BAD_SYNTAX = f"quantities must match the regular expression '{PATTERN}'"


def parse(text: object) -> Fraction | None:
    """The value of a quantity; None when the API server would refuse it (``1GB``, ``lots``)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return Fraction(text)
    if not isinstance(text, str):
        return None
    match = SYNTAX.match(text)
    if not match:
        return None
    number, suffix = match.groups()
    try:
        value = Fraction(number)
    except ValueError:
        return None
    if suffix in SUFFIXES:
        return value * SUFFIXES[suffix]
    exponent = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    return value * Fraction(10) ** int(exponent.group(1)) if exponent else None


def show(value: Fraction, resource: str) -> str:
    """A quantity as the API server prints it in quota messages: ``500m``, ``1``, ``64Mi``."""
    if resource.endswith("cpu"):
        return str(int(value)) if value.denominator == 1 else f"{int(value * 1000)}m"
    if value.denominator != 1:
        return f"{int(value * 1000)}m"
    number = int(value)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if number and number % SUFFIXES[suffix] == 0:
            return f"{number // int(SUFFIXES[suffix])}{suffix}"
    return str(number)
