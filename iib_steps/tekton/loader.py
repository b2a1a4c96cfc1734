"""Load Tekton resources from YAML files, remembering where each one came from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from iib_steps.errors import StepError

RESOURCE_DIRS = ("tasks", "pipelines")


@dataclass(frozen=True)
class Resource:
    """One YAML document: a Tekton (or Triggers) object and the file it was read from."""

    path: Path
    index: int  # position of the document in its file
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name", ""))

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    def where(self) -> str:
        doc = f" (document {self.index + 1})" if self.index else ""
        return f"{self.path}{doc}: {self.kind} {self.name}".rstrip()


def load_file(path: str | Path) -> list[Resource]:
    """Every non-empty document of a YAML file; a document that is not a mapping is an error."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise StepError(f"cannot read {file}: {exc.strerror}") from None
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StepError(f"{file} is not valid YAML: {first}") from None
    out = []
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise StepError(f"{file}: document {index + 1} is not a mapping")
        out.append(Resource(file, index, doc))
    return out


def load_files(paths: Iterable[str | Path]) -> list[Resource]:
    return [resource for path in paths for resource in load_file(path)]


def resource_files(root: str | Path) -> Iterator[Path]:
    """The Task and Pipeline files of the catalog layout: ``<dir>/<name>/<version>/<name>.yaml``."""
    base = Path(root)
    for folder in RESOURCE_DIRS:
        for path in sorted((base / folder).glob("*/*/*.yaml")):
            if path.stem == path.parent.parent.name:
                yield path


def sample_files(root: str | Path) -> Iterator[Path]:
    """The ``samples/*.yaml`` runs of every Task and Pipeline."""
    base = Path(root)
    for folder in RESOURCE_DIRS:
        yield from sorted((base / folder).glob("*/*/samples/*.yaml"))


def trigger_files(root: str | Path) -> Iterator[Path]:
    yield from sorted((Path(root) / "pipelines" / "triggers").glob("*.yaml"))
