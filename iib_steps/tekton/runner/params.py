"""Binding a Task's or Pipeline's declared params to the values a run gives (Tekton's rules).

A param's type is ``string`` unless declared (or implied by its default); a missing value takes the
default; an object's given keys are merged over its default's. Values given on the command line
(``-p name=value``) are parsed here too, the way ``tkn`` reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.variables import Value


def param_type(spec: Mapping[str, Any]) -> str:
    """The declared type, else the type of the default, else ``string``."""
    if spec.get("type"):
        return str(spec["type"])
    default = spec.get("default")
    if isinstance(default, list):
        return "array"
    if isinstance(default, dict):
        return "object"
    return "string"


def _check_type(name: str, kind: str, value: Any, where: str) -> Value:
    if kind == "array":
        if not isinstance(value, list):
            raise RunError(
                f"{where}: param {name} is an array but was given {value!r}: give a list",
                "ParameterTypeMismatch",
            )
        return [str(v) for v in value]
    if kind == "object":
        if not isinstance(value, dict):
            raise RunError(
                f"{where}: param {name} is an object but was given {value!r}: give key=value pairs",
                "ParameterTypeMismatch",
            )
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list | dict):
        raise RunError(
            f"{where}: param {name} is a string but was given {json.dumps(value)}: give one value",
            "ParameterTypeMismatch",
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bind_params(
    specs: Iterable[Mapping[str, Any]], given: Mapping[str, Value], where: str
) -> dict[str, Value]:
    """Each declared param's value: the given one (type-checked) or its default.

    Undeclared given params are ignored, as Tekton ignores extra params.
    """
    out: dict[str, Value] = {}
    for spec in specs or ():
        name = str(spec["name"])
        kind = param_type(spec)
        default = spec.get("default")
        if name in given:
            value = _check_type(name, kind, given[name], where)
            if kind == "object" and isinstance(default, dict):
                value = {**{str(k): str(v) for k, v in default.items()}, **value}  # type: ignore[dict-item]
        elif default is not None:
            value = _check_type(name, kind, default, where)
        else:
            raise RunError(
                f"{where}: param {name} is required and has no default: give it a value (-p {name}=...)",
                "ParameterMissing",
            )
        if kind == "object":
            missing = [k for k in (spec.get("properties") or {}) if k not in value]
            if missing:
                raise RunError(
                    f"{where}: object param {name} lacks the key(s) {', '.join(missing)}: "
                    f"give them (-p {name}.{missing[0]}=...)",
                    "ParameterMissing",
                )
        enum = spec.get("enum")
        if enum and isinstance(value, str) and value not in enum:
            raise RunError(
                f"{where}: param {name} is {value!r}, not one of {', '.join(map(str, enum))}",
                "InvalidParamValue",
            )
        out[name] = value
    return out


def parse_cli_params(items: Iterable[str], specs: Iterable[Mapping[str, Any]]) -> dict[str, Value]:
    """``-p`` options as values: ``a=x,y`` (and repeated ``-p a=z``) for arrays, ``o.key=v`` or
    ``o={"key": "v"}`` for objects, anything after the first ``=`` verbatim for strings."""
    kinds = {str(s["name"]): param_type(s) for s in specs or ()}
    out: dict[str, Value] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise RunError(f"param {item!r} is not name=value: write -p NAME=VALUE")
        target, key = name, None
        if name not in kinds and "." in name and kinds.get(name.split(".", 1)[0]) == "object":
            target, key = name.split(".", 1)
        if target not in kinds:
            declared = ", ".join(sorted(kinds)) or "none"
            raise RunError(f"param {target!r} is not declared (declared: {declared}): check its name")
        kind = kinds[target]
        if kind == "array":
            items_ = [] if value == "" else value.split(",")
            previous = out.get(target, [])
            out[target] = [*previous, *items_] if isinstance(previous, list) else items_
        elif kind == "object":
            current = out.get(target)
            obj: dict[str, str] = dict(current) if isinstance(current, dict) else {}
            if key is not None:
                obj[key] = value
            else:
                try:
                    loaded = json.loads(value)
                except ValueError:
                    loaded = None
                if not isinstance(loaded, dict):
                    raise RunError(
                        f"object param {target!r} needs -p {target}.KEY=VALUE or a JSON object, not {value!r}"
                    )
                obj.update({str(k): str(v) for k, v in loaded.items()})
            out[target] = obj
        else:
            out[target] = value
    return out
