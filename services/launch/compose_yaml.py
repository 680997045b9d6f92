"""YAML 1.2 for compose files: Compose reads them with a YAML 1.2 (core schema) parser, PyYAML speaks YAML 1.1.

The differences that matter in real compose files: ``- 21:21`` is the string ``"21:21"`` (YAML 1.1: the base-60
number 1281), ``off``/``yes``/``on``/``no`` are strings (1.1: booleans), ``0777`` is the number 777 and ``0o777``
octal. Only the implicit resolvers change; the bounds of :mod:`prdeck.services.launch.spec_yaml` still apply.
"""

from __future__ import annotations

import re

import yaml


class CoreSchemaLoader(yaml.SafeLoader):
    """A SafeLoader whose plain scalars resolve by YAML 1.2's core schema (bool, int, float, null)."""

    def construct_yaml_int(self, node: yaml.Node) -> int:  # type: ignore[override]
        text = str(self.construct_scalar(node))  # type: ignore[arg-type]
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits)


# Resolvers are kept per class: start from none, then add the core schema's (YAML 1.2.2, section 10.3.2).
CoreSchemaLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     "-+0123456789."),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
):
    CoreSchemaLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", CoreSchemaLoader.construct_yaml_int)
