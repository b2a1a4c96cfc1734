"""Tekton variable references (``$(params.x)``, ``$(tasks.t.results.r)``, ...) found in YAML values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_VAR = re.compile(r"\$\(([^()]*)\)")
# params.name, params.name[*], params.name[0], params.obj.key, params['a.b'], params["a.b"]
_PARAM = re.compile(r"""^params(?:\.([_a-zA-Z][_a-zA-Z0-9.-]*?)|\[['"]([^'"]+)['"]\])(\[\*\]|\[\d+\])?$""")


@dataclass(frozen=True)
class Ref:
    """One ``$(...)`` expression: its text without ``$(`` and ``)``, and where it sits."""

    expr: str
    where: str  # a dotted path in the document, e.g. steps.0.args.3
    whole: bool  # the expression is the entire string value


def find_refs(value: Any, where: str = "") -> Iterator[Ref]:
    """Every ``$(...)`` inside ``value`` (strings, lists and mappings, recursively)."""
    if isinstance(value, str):
        matches = list(_VAR.finditer(value))
        for match in matches:
            yield Ref(match.group(1).strip(), where, match.group(0) == value)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from find_refs(item, f"{where}.{i}" if where else str(i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from find_refs(item, f"{where}.{key}" if where else str(key))


def param_name(expr: str) -> tuple[str, str] | None:
    """``(name, suffix)`` of a ``params`` reference (suffix ``[*]``, ``[0]`` or ``""``), else None.

    For ``params.obj.key`` the name is ``obj.key``; callers try the longest declared prefix.
    """
    match = _PARAM.match(expr)
    if not match:
        return None
    return (match.group(1) or match.group(2)), match.group(3) or ""


def declared_param(name: str, declared: set[str]) -> str | None:
    """The declared param ``name`` refers to: itself, or the object param before ``.key``."""
    if name in declared:
        return name
    head = name.split(".", 1)[0]
    return head if head in declared else None
