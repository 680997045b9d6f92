"""YAML that every reader takes back as written: kubectl's (YAML 1.1 with Go's number syntax) and PyYAML's.

PyYAML quotes only what its own resolver would misread, so ``Y``, ``n``, ``0o12`` or ``1_000`` came out bare and
kubectl read them as a boolean or a number (the API server then refused ``value: true`` for an env var). Here a
string is quoted whenever it looks like a YAML 1.1 boolean or null, or starts like a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

AMBIGUOUS = re.compile(
    r"""^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
        |~|null|Null|NULL|=|<<
        |[-+]?\.?[0-9].*          # anything that starts like a number: 0o12, 1_000, 0x1p3, 1e3, 12:30
        |[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN))$""",
    re.VERBOSE,
)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        """Every object written out in full: a label set shared by two objects is not ``&id001``/``*id001``
        (valid YAML, but not what a person reads, nor what kubectl prints)."""
        return True


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if AMBIGUOUS.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _string)


def dump_all(documents: Iterable[Any]) -> str:
    return yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, allow_unicode=False)
