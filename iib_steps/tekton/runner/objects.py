"""Pieces of ``tekton.dev/v1`` run objects: timestamps, names, conditions and Tekton's messages."""

from __future__ import annotations

import json
import os
import secrets
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

API_VERSION = "tekton.dev/v1"

# Reasons Tekton gives runs (pkg/apis/pipeline/v1 pipelinerun_types.go, taskrun_types.go).
SUCCEEDED = "Succeeded"
COMPLETED = "Completed"
FAILED = "Failed"
RUNNING = "Running"
STARTED = "Started"
PIPELINE_CANCELLED = "Cancelled"
PIPELINE_TIMEOUT = "PipelineRunTimeout"
TASK_CANCELLED = "TaskRunCancelled"
TASK_TIMEOUT = "TaskRunTimeout"
FAILURE_IGNORED = "FailureIgnored"
RESULTS_TOO_LARGE = "TaskRunResultLargerThanAllowedLimit"

# Why a pipeline task was skipped (status.skippedTasks[].reason), in Tekton's words.
SKIP_WHEN = "When Expressions evaluated to false"
SKIP_PARENT = "Parent Tasks were skipped"
SKIP_STOPPING = "PipelineRun was stopping"
SKIP_MISSING_RESULTS = "Results were missing"
SKIP_PIPELINE_TIMEOUT = "PipelineRun timeout has been reached"
SKIP_TASKS_TIMEOUT = "PipelineRun Tasks timeout has been reached"
SKIP_FINALLY_TIMEOUT = "PipelineRun Finally timeout has been reached"

_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


def now() -> str:
    """An RFC 3339 timestamp in UTC, to the second, as Kubernetes writes ``metav1.Time``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(prefix: str) -> str:
    """``<prefix>-run-xxxxx`` as ``tkn ... start`` names runs (trimmed to a DNS-1123 label)."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))
    return f"{prefix[:52].rstrip('-')}-run-{suffix}"


def name_from_prefix(prefix: str) -> str:
    """A name from ``metadata.generateName``: the prefix and five random characters, as Kubernetes."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))
    return f"{prefix[:58]}{suffix}"


def child_name(parent: str, child: str) -> str:
    """A TaskRun's name: ``<pipelinerun>-<pipeline task>``, within 63 characters as Tekton keeps it."""
    name = f"{parent}-{child}"
    if len(name) <= 63:
        return name
    import hashlib

    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
    return f"{name[: 63 - 33].rstrip('-')}-{digest}"[:63]


def condition(status: str, reason: str, message: str = "") -> dict[str, Any]:
    """The one ``Succeeded`` condition of a run: status ``True``, ``False`` or ``Unknown``."""
    out: dict[str, Any] = {
        "type": "Succeeded",
        "status": status,
        "reason": reason,
        "lastTransitionTime": now(),
    }
    if message:
        out["message"] = message
    return out


def tasks_message(completed: int, failed: int, cancelled: int, skipped: int, ignored: int = 0) -> str:
    """``Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 0`` as Tekton words a PipelineRun."""
    failed_text = f"{failed} (Ignored: {ignored})" if ignored else str(failed)
    return f"Tasks Completed: {completed} (Failed: {failed_text}, Cancelled {cancelled}), Skipped: {skipped}"


def write_object(obj: dict[str, Any], folder: Path, stem: str, *, yaml_too: bool = False) -> None:
    """Write ``obj`` as ``<stem>.json`` (and ``<stem>.yaml``) in ``folder``, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    outputs = [(f"{stem}.json", json.dumps(obj, indent=2, ensure_ascii=False) + "\n")]
    if yaml_too:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        outputs.append((f"{stem}.yaml", yaml.dump(obj, Dumper=dumper, sort_keys=False, allow_unicode=True)))
    for filename, text in outputs:
        tmp = folder / f".{filename}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / filename)
