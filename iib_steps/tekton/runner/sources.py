"""Where Tasks and Pipelines come from: a dict, a YAML file, a name in this repository's
``tasks/``/``pipelines/`` folders (``<name>/<version>/<name>.yaml``, highest version), or a Tekton
bundle (``taskRef`` with ``resolver: bundles``), through a pluggable :class:`TaskResolver`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

from iib_steps.tekton.runner.errors import RunError

REPO_ROOT = Path(__file__).resolve().parents[3]
_VERSION_PART = re.compile(r"\d+|\D+")

BundleFetcher = Callable[[str, str, str], dict[str, Any]]
"""``(bundle reference, kind, name) -> object``: reads one Tekton object out of a bundle image."""


class TaskResolver(Protocol):
    """Turns a ``taskRef`` into a Task object (``apiVersion``, ``kind``, ``metadata``, ``spec``)."""

    def __call__(self, task_ref: Mapping[str, Any]) -> dict[str, Any]: ...


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of a file (empty ones dropped); a YAML error is one line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RunError(f"cannot read {path}: {exc.strerror}") from None
    try:
        docs = [d for d in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise RunError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise RunError(f"{path} holds a YAML document that is not a mapping")
    return docs


def _version_key(name: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _VERSION_PART.findall(name))


def find_in_catalog(folder: Path, name: str) -> Path | None:
    """``folder/<name>/<highest version>/<name>.yaml`` (tektoncd/catalog layout), if present."""
    base = folder / name
    if not base.is_dir():
        return None
    versions = sorted(
        (p for p in base.iterdir() if (p / f"{name}.yaml").is_file()), key=lambda p: _version_key(p.name)
    )
    return versions[-1] / f"{name}.yaml" if versions else None


def _pick(docs: Sequence[dict[str, Any]], kind: str, name: str | None, source: str) -> dict[str, Any]:
    found = [
        d
        for d in docs
        if d.get("kind") == kind and (name is None or d.get("metadata", {}).get("name") == name)
    ]
    if not found:
        what = f"{kind} {name}" if name else f"a {kind}"
        raise RunError(
            f"{source} holds no {what}", "CouldntGetTask" if kind == "Task" else "CouldntGetPipeline"
        )
    return copy.deepcopy(found[0])


def _wrap(kind: str, spec_or_obj: Mapping[str, Any], default_name: str) -> dict[str, Any]:
    """An object of ``kind`` from either a whole object or a bare spec."""
    if spec_or_obj.get("kind"):
        if spec_or_obj["kind"] != kind:
            raise RunError(f"expected a {kind} but got a {spec_or_obj['kind']}")
        obj = copy.deepcopy(dict(spec_or_obj))
        obj.setdefault("metadata", {}).setdefault("name", default_name)
        obj.setdefault("spec", {})
        return obj
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": kind,
        "metadata": {"name": default_name},
        "spec": copy.deepcopy(dict(spec_or_obj)),
    }


def load_definition(
    source: Mapping[str, Any] | str | Path, kind: str, search: Sequence[Path] = ()
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A Pipeline or Task object from a dict, a file or a name, and the other documents of its file.

    A name is looked up as ``<dir>/<name>/<version>/<name>.yaml`` in ``search`` (default: this
    repository's ``pipelines/`` or ``tasks/``).
    """
    if isinstance(source, Mapping):
        return _wrap(kind, source, kind.lower()), []
    text = str(source)
    path = Path(text)
    if not path.is_file():
        folder = "pipelines" if kind == "Pipeline" else "tasks"
        dirs = list(search) or [REPO_ROOT / folder]
        for d in dirs:
            found = find_in_catalog(d, text)
            if found:
                path = found
                break
        else:
            reason = "CouldntGetPipeline" if kind == "Pipeline" else "CouldntGetTask"
            raise RunError(
                f"no {kind} {text!r}: give a YAML file or the name of one in {', '.join(map(str, dirs))}",
                reason,
            )
    docs = load_yaml_documents(path)
    obj = _pick(docs, kind, None, str(path))
    return obj, [d for d in docs if d is not obj and d.get("kind") == "Task"]


class CatalogTaskResolver:
    """Resolves ``taskRef: {name}`` from Task folders and extra Task objects, ``resolver: cluster``
    the same way, and ``resolver: bundles`` through a bundle fetcher."""

    def __init__(
        self,
        task_dirs: Sequence[Path] = (),
        tasks: Sequence[Mapping[str, Any]] = (),
        bundle_fetcher: BundleFetcher | None = None,
    ) -> None:
        self.task_dirs = [Path(d) for d in task_dirs] or [REPO_ROOT / "tasks"]
        self.tasks = {str(t["metadata"]["name"]): dict(t) for t in tasks}
        self.bundle_fetcher = bundle_fetcher

    def __call__(self, task_ref: Mapping[str, Any]) -> dict[str, Any]:
        resolver = task_ref.get("resolver")
        params = {str(p["name"]): p.get("value") for p in task_ref.get("params") or ()}
        if resolver == "bundles":
            return self._from_bundle(params)
        if resolver == "cluster":
            if params.get("kind", "task") != "task":
                raise RunError(f"the cluster resolver here resolves Tasks only, not {params.get('kind')}")
            return self._by_name(str(params.get("name", "")))
        if resolver:
            raise RunError(
                f"taskRef resolver {resolver!r} is not available to the embedded runner: "
                "use a name, resolver: cluster or resolver: bundles",
                "CouldntGetTask",
            )
        if task_ref.get("kind") not in (None, "Task"):
            raise RunError(f"taskRef kind {task_ref['kind']} is not supported: use a Task", "CouldntGetTask")
        return self._by_name(str(task_ref.get("name", "")))

    def _by_name(self, name: str) -> dict[str, Any]:
        if name in self.tasks:
            return copy.deepcopy(self.tasks[name])
        for d in self.task_dirs:
            found = find_in_catalog(d, name)
            if found:
                return _pick(load_yaml_documents(found), "Task", None, str(found))
        raise RunError(
            f"no Task {name!r} in {', '.join(map(str, self.task_dirs))}: check taskRef.name",
            "CouldntGetTask",
        )

    def _from_bundle(self, params: Mapping[str, Any]) -> dict[str, Any]:
        bundle, name = params.get("bundle"), params.get("name")
        kind = str(params.get("kind") or "task").lower()
        if not bundle or not name:
            raise RunError("a bundles taskRef needs the params bundle and name", "CouldntGetTask")
        fetch = self.bundle_fetcher
        if fetch is None:
            from iib_steps.tekton.runner.bundle_source import read_bundle_object

            fetch = read_bundle_object
        return fetch(str(bundle), kind, str(name))
