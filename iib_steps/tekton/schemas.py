"""Strict structural validation against Tekton's CRD schemas (``openAPIV3Schema`` as JSON files).

The CRD schemas list every field but never forbid unknown ones (the API server prunes them), so a
typo such as ``scrpit:`` would pass. :func:`strict` adds ``additionalProperties: false`` wherever a
schema lists its properties and does not ask to keep unknown fields; inline ``taskSpec``s of a
Pipeline or a run are then validated against the Task schema's ``spec`` the same way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from iib_steps.tekton.loader import Resource

SCHEMA_FILES = {
    ("tekton.dev/v1", "Task"): "Task-v1.json",
    ("tekton.dev/v1", "Pipeline"): "Pipeline-v1.json",
    ("tekton.dev/v1", "PipelineRun"): "PipelineRun-v1.json",
    ("tekton.dev/v1", "TaskRun"): "TaskRun-v1.json",
    ("tekton.dev/v1beta1", "StepAction"): "StepAction-v1beta1.json",
}
_EMBEDDED_EXTRAS = ("metadata", "apiVersion", "kind", "spec")  # EmbeddedTask fields beside a TaskSpec


def strict(schema: Any) -> Any:
    """A copy of ``schema`` in which listed properties are the only ones allowed."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        out.get("type") == "object"
        and "properties" in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in out
    ):
        out["additionalProperties"] = False
    return out


@cache
def _validator(schema_dir: str, file: str, part: str = "") -> Draft7Validator:
    schema = json.loads((Path(schema_dir) / file).read_text())
    if part:
        schema = copy.deepcopy(schema["properties"][part])
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return Draft7Validator(strict(schema))


def _errors(validator: Draft7Validator, body: Any, prefix: str = "") -> Iterator[str]:
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path)
        yield f"{prefix}{where or '(top)'}: {error.message}"


def _inline_task_specs(resource: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = resource.spec
    if resource.kind == "TaskRun" and isinstance(spec.get("taskSpec"), dict):
        yield "spec.taskSpec.", spec["taskSpec"]
    pipeline = spec
    prefix = "spec."
    if resource.kind == "PipelineRun":
        pipeline = spec.get("pipelineSpec") if isinstance(spec.get("pipelineSpec"), dict) else {}
        prefix = "spec.pipelineSpec."
    if resource.kind in ("Pipeline", "PipelineRun"):
        for section in ("tasks", "finally"):
            for i, task in enumerate(pipeline.get(section) or []):
                if isinstance(task, dict) and isinstance(task.get("taskSpec"), dict):
                    yield f"{prefix}{section}.{i}.taskSpec.", task["taskSpec"]


def validate(resource: Resource, schema_dir: str | Path) -> list[str]:
    """Schema errors of ``resource`` (empty when valid); an unknown kind is an error too."""
    key = (resource.api_version, resource.kind)
    if key not in SCHEMA_FILES:
        return [f"no schema for {resource.api_version} {resource.kind}"]
    problems = list(_errors(_validator(str(schema_dir), SCHEMA_FILES[key]), resource.body))
    if resource.kind == "PipelineRun" and isinstance(resource.spec.get("pipelineSpec"), dict):
        pipeline_spec = _validator(str(schema_dir), "Pipeline-v1.json", "spec")
        problems += _errors(pipeline_spec, resource.spec["pipelineSpec"], "spec.pipelineSpec.")
    task_spec = _validator(str(schema_dir), "Task-v1.json", "spec")
    for prefix, inline in _inline_task_specs(resource):
        body = {k: v for k, v in inline.items() if k not in _EMBEDDED_EXTRAS}
        problems += _errors(task_spec, body, prefix)
    return problems
