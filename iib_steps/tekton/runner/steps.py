"""Turning a Task's steps into processes: ``stepTemplate`` merged in, variables substituted
(literally, never through a shell), ``script`` written to a file to execute, env from secrets."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.runtimes import PathMap, Runtime
from iib_steps.tekton.runner.variables import Lookup, substitute_list, substitute_string

DEFAULT_SHEBANG = "#!/bin/sh\nset -e\n"


def merge_step_template(template: Mapping[str, Any] | None, step: Mapping[str, Any]) -> dict[str, Any]:
    """A step with the ``stepTemplate`` under it: the step's fields win; ``env`` and ``volumeMounts``
    merge by name (the step's entry wins), as Kubernetes merges a container."""
    if not template:
        return copy.deepcopy(dict(step))
    out = copy.deepcopy({k: v for k, v in template.items() if k != "name"})
    for key, value in step.items():
        if key in ("env", "volumeMounts") and isinstance(out.get(key), list):
            by_name = {str(e.get("name")): e for e in out[key]}
            for entry in value or ():
                by_name[str(entry.get("name"))] = copy.deepcopy(entry)
            out[key] = list(by_name.values())
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_secret_key(secrets_dir: Path | None, name: str, key: str, what: str) -> str | None:
    """A secret's key from ``<secrets_dir>/<name>/<key>``; ``None`` when absent."""
    if secrets_dir is None:
        return None
    path = secrets_dir / name / key
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def step_env(
    step: Mapping[str, Any], lookup: Lookup, rewrite: PathMap | None, secrets_dir: Path | None, where: str
) -> dict[str, str]:
    """The step's environment: ``envFrom`` secrets, then ``env`` values and ``secretKeyRef``s."""
    env: dict[str, str] = {}
    for source in step.get("envFrom") or ():
        ref = source.get("secretRef")
        if not ref:
            raise RunError(f"{where}: envFrom supports secretRef only")
        folder = (secrets_dir / str(ref["name"])) if secrets_dir else None
        if folder is None or not folder.is_dir():
            if ref.get("optional"):
                continue
            raise RunError(
                f"{where}: no secret {ref['name']!r} (give a secrets folder holding {ref['name']}/)"
            )
        prefix = str(source.get("prefix", ""))
        for item in sorted(folder.iterdir()):
            if item.is_file():
                env[prefix + item.name] = item.read_text(encoding="utf-8")
    for entry in step.get("env") or ():
        name = str(entry["name"])
        if "valueFrom" in entry:
            value_from = entry["valueFrom"] or {}
            ref = value_from.get("secretKeyRef")
            if not ref:
                raise RunError(f"{where}: env {name}: valueFrom supports secretKeyRef only")
            secret = substitute_string(str(ref.get("name", "")), lookup, where)
            key = substitute_string(str(ref.get("key", "")), lookup, where)
            value = read_secret_key(secrets_dir, secret, key, where)
            if value is None:
                if ref.get("optional"):
                    continue
                place = f"{secrets_dir}/{secret}/{key}" if secrets_dir else "no secrets folder was given"
                raise RunError(f"{where}: env {name}: secret {secret!r} has no key {key!r} ({place})")
            env[name] = value
        else:
            text = str(entry.get("value", ""))
            if rewrite is not None:
                text = rewrite.rewrite(text)
            env[name] = substitute_string(text, lookup, where)
    return env


def write_script(folder: Path, index: int, name: str, script: str) -> Path:
    """The step's script as an executable file; without a shebang it runs as ``sh`` with ``set -e``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"script-{index}-{name}"
    body = script if script.startswith("#!") else DEFAULT_SHEBANG + script
    path.write_text(body, encoding="utf-8")
    os.chmod(path, 0o755)
    return path


def step_argv(
    step: Mapping[str, Any],
    *,
    index: int,
    lookup: Lookup,
    rewrite: PathMap | None,
    runtime: Runtime,
    image: str,
    scripts_dir: Path,
    script_visible: str,
    where: str,
) -> list[str]:
    """The step's argv: its script file, or ``command`` + ``args``, or the image's entrypoint."""

    def prepared(items: list[Any]) -> list[str]:
        texts = [str(i) for i in items]
        if rewrite is not None:
            texts = [rewrite.rewrite(t) for t in texts]
        return substitute_list(texts, lookup, where)

    args = prepared(step.get("args") or [])
    if step.get("script"):
        if step.get("command"):
            raise RunError(f"{where}: a step cannot have both script and command")
        script = str(step["script"])
        if rewrite is not None:
            script = rewrite.rewrite(script)
        script = substitute_string(script, lookup, where)
        write_script(scripts_dir, index, str(step.get("name", index)), script)
        return [f"{script_visible}/script-{index}-{step.get('name', index)}", *args]
    command = prepared(step.get("command") or [])
    if command:
        return [*command, *args]
    entrypoint, cmd = runtime.image_command(image)
    if not entrypoint and not cmd:
        raise RunError(f"{where}: the step has no command and its image {image} has no entrypoint")
    return [*entrypoint, *args] if args else [*entrypoint, *cmd]
