"""Tekton's ``$(...)`` variable substitution, done once and literally (never through a shell).

Values are strings, arrays (lists of strings) or objects (string maps). A whole array or object
replaces an element or field that consists of exactly one reference (``$(params.a[*])`` in
``args`` expands into one element per item); inside a longer string only strings are allowed.
A variable the scope does not know stays as written, as Tekton leaves it. A substituted value is
never substituted again, so a param holding ``$(params.other)`` reaches the step unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from iib_steps.tekton.runner.errors import RunError

Value = str | list[str] | dict[str, str]
Lookup = Callable[[str], Value | None]

REF = re.compile(r"\$\(([^()$]*)\)")
_INDEX = re.compile(r"^(.*)\[(\*|\d+)\]$")
_QUOTED = re.compile(r"""^\[(['"])(.+?)\1\](.*)$""")


def iter_refs(obj: Any) -> Iterator[str]:
    """Every ``$(...)`` expression in a nested structure of strings, lists and maps."""
    if isinstance(obj, str):
        for m in REF.finditer(obj):
            yield m.group(1).strip()
    elif isinstance(obj, list):
        for item in obj:
            yield from iter_refs(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from iter_refs(item)


def substitute_string(text: str, lookup: Lookup, where: str) -> str:
    """``text`` with each known reference replaced by its string value."""

    def one(m: re.Match[str]) -> str:
        value = lookup(m.group(1).strip())
        if value is None:
            return m.group(0)
        if not isinstance(value, str):
            kind = "an array" if isinstance(value, list) else "an object"
            raise RunError(
                f"{where}: {m.group(0)} is {kind} and cannot be used inside a string: "
                "use it as a whole element of an array field"
            )
        return value

    return REF.sub(one, text)


def substitute_list(items: list[Any], lookup: Lookup, where: str) -> list[str]:
    """An array field (``args``, ``command``, an array param value) with whole references expanded."""
    out: list[str] = []
    for item in items:
        item = str(item)
        m = REF.fullmatch(item.strip())
        if m:
            value = lookup(m.group(1).strip())
            if isinstance(value, list):
                out.extend(value)
                continue
            if isinstance(value, dict):
                raise RunError(f"{where}: {item} is an object and cannot be an array element")
        out.append(substitute_string(item, lookup, where))
    return out


def substitute_value(value: Any, lookup: Lookup, where: str) -> Value:
    """A param value: a string that is one reference to an array or object becomes that value."""
    if isinstance(value, list):
        return substitute_list(value, lookup, where)
    if isinstance(value, dict):
        return {str(k): substitute_string(str(v), lookup, where) for k, v in value.items()}
    text = str(value)
    m = REF.fullmatch(text.strip())
    if m:
        found = lookup(m.group(1).strip())
        if isinstance(found, list | dict):
            return found
    return substitute_string(text, lookup, where)


def _index(value: Value, index: str, ref: str) -> Value:
    if index == "*":
        return value
    if not isinstance(value, list):
        raise RunError(f"$({ref}) indexes a value that is not an array")
    i = int(index)
    if i >= len(value):
        raise RunError(f"$({ref}) is out of range: the array has {len(value)} items")
    return value[i]


def lookup_in(values: Mapping[str, Value], rest: str, ref: str) -> Value | None:
    """Resolve the part of a reference after its prefix (``params`` or ``tasks.t.results``).

    ``rest`` is ``.name``, ``['name']``, either followed by ``[*]`` or ``[i]``, or ``.object.key``.
    Names may hold dots, so the longest declared name wins before an object key is tried.
    """
    quoted = _QUOTED.match(rest)
    if quoted:
        name, tail = quoted.group(2), quoted.group(3)
        if name not in values:
            return None
        value = values[name]
        if not tail:
            return value
        m = re.fullmatch(r"\[(\*|\d+)\]", tail)
        if m:
            return _index(value, m.group(1), ref)
        if tail.startswith(".") and isinstance(value, dict):
            return value.get(tail[1:])
        return None
    if not rest.startswith("."):
        return None
    body, index = rest[1:], None
    m = _INDEX.match(body)
    if m:
        body, index = m.group(1), m.group(2)
    if body in values:
        return values[body] if index is None else _index(values[body], index, ref)
    if "." in body:
        obj, key = body.split(".", 1)
        value = values.get(obj)
        if isinstance(value, dict) and key in value:
            return value[key] if index is None else _index(value[key], index, ref)
    return None
