"""THE one mapping from a Tekton v1 PipelineRun object to an IIB request's state, reason and fields.

Everything that sees PipelineRuns (the recording endpoint, Tekton CloudEvents, the Kubernetes
watcher, the local runner) goes through ``read_pipelinerun``. The request is found through our labels
(``iib.redhat.com/request-id``), or created on first sight with ``iib.redhat.com/request-type``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from status_api.errors import ValidationError
from status_api.request_types import FIELDS, SUCCESS_REASONS, TYPES

LABEL_REQUEST_ID = "iib.redhat.com/request-id"
LABEL_REQUEST_TYPE = "iib.redhat.com/request-type"
ANNOTATION_USER = "iib.redhat.com/user"

# Condition reasons of a run that is over but did not succeed, worded for state_reason.
_CANCELLED = {"Cancelled", "CancelledRunFinally", "StoppedRunFinally", "PipelineRunCancelled"}
_TIMED_OUT = {"PipelineRunTimeout"}
_WINDING_DOWN = {
    "PipelineRunStopping": "is stopping",
    "CancelledRunningFinally": "was cancelled and is running its finally tasks",
    "StoppedRunningFinally": "was stopped and is running its finally tasks",
    "PipelineRunTimeoutRunningFinally": "timed out and is running its finally tasks",
}


@dataclass
class RunOutcome:
    """What a PipelineRun says about its request."""

    uid: str
    name: str
    namespace: str
    request_id: int | None
    request_type: str
    state: str
    state_reason: str
    fields: dict[str, Any] = field(default_factory=dict)
    arches: list[str] = field(default_factory=list)
    user: str | None = None
    status: dict[str, Any] = field(default_factory=dict)
    start_time: str | None = None
    completion_time: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def unwrap(payload: Any) -> dict[str, Any]:
    """Accept a PipelineRun, a Tekton CloudEvent body ``{"pipelineRun": {...}}`` (binary mode), or a
    structured-mode CloudEvent (``{"specversion": ..., "data": {"pipelineRun": {...}}}``)."""
    if isinstance(payload, dict) and "specversion" in payload and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    if isinstance(payload, dict) and isinstance(payload.get("pipelineRun"), dict):
        payload = payload["pipelineRun"]
    if not isinstance(payload, dict) or payload.get("kind", "PipelineRun") != "PipelineRun":
        raise ValidationError(
            "The input data must be a PipelineRun object or a Tekton CloudEvent carrying one"
        )
    if not isinstance(payload.get("metadata"), dict):
        raise ValidationError('The PipelineRun must have "metadata"')
    return payload


def _succeeded_condition(status: dict[str, Any]) -> dict[str, Any] | None:
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Succeeded":
            return condition
    return None


def _result_value(value: Any, kind: Any) -> Any:
    """Results are strings, arrays or objects; a string holding JSON fills a list or object field."""
    if isinstance(kind, list | dict) and isinstance(value, str):
        try:
            parsed = json.loads(value) if value.strip() else type(kind)()
        except ValueError:
            return value
        return parsed if isinstance(parsed, type(kind)) else value
    if kind is None and isinstance(value, str) and value == "":
        return None
    return value


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _fields_from(pairs: list[tuple[str, Any]], request_type: str) -> dict[str, Any]:
    known = FIELDS.get(request_type, {})
    out: dict[str, Any] = {}
    for name, value in pairs:
        key = _normalise(name)
        if key in known:
            out[key] = _result_value(value, known[key])
        elif key in ("arches", "state_reason"):
            out[key] = _result_value(value, [] if key == "arches" else None)
    return out


def _image_results(results: dict[str, Any], request_type: str, fields: dict[str, Any]) -> None:
    """Tekton/Konflux ``IMAGE_URL`` + ``IMAGE_DIGEST`` fill the output image fields left unset."""
    url, digest = results.get("IMAGE_URL"), results.get("IMAGE_DIGEST")
    if not isinstance(url, str) or not url:
        return
    resolved = None
    if isinstance(digest, str) and digest.startswith("sha256:"):
        repository = url.rsplit("@", 1)[0]
        last = repository.rsplit("/", 1)[-1]
        if ":" in last:
            repository = repository[: repository.rfind(":")]
        resolved = f"{repository}@{digest}"
    if request_type == "regenerate-bundle":
        fields.setdefault("bundle_image", url)
        return
    known = FIELDS.get(request_type, {})
    for key, value in (("index_image", url), ("index_image_resolved", resolved)):
        if key in known and value:
            fields.setdefault(key, value)
    for key, value in (("internal_index_image_copy", url), ("internal_index_image_copy_resolved", resolved)):
        if key in known and value:
            fields.setdefault(key, value)


def _state(
    condition: dict[str, Any] | None, name: str, request_type: str, results: dict[str, Any]
) -> tuple[str, str]:
    if condition is None:
        return "in_progress", f"The PipelineRun {name} was created"
    status = condition.get("status")
    reason = condition.get("reason") or ""
    message = (condition.get("message") or "").strip()
    said = results.get("state_reason") if isinstance(results.get("state_reason"), str) else None
    if status == "True":
        return "complete", said or SUCCESS_REASONS.get(request_type, SUCCESS_REASONS["generic"])
    if status == "False":
        if reason in _CANCELLED:
            return "failed", f"The request was cancelled: the PipelineRun {name} was cancelled" + (
                f" ({message})" if message else ""
            )
        if reason in _TIMED_OUT:
            return "failed", f"The request timed out: {message or f'the PipelineRun {name} timed out'}"
        if said:
            return "failed", said
        detail = f"{reason}: {message}" if message and reason else (message or reason or "no reason given")
        return "failed", f"The PipelineRun {name} failed ({detail})"
    if reason == "PipelineRunPending":
        return "in_progress", f"The PipelineRun {name} is pending"
    if reason in _WINDING_DOWN:
        return "in_progress", f"The PipelineRun {name} {_WINDING_DOWN[reason]}"
    return "in_progress", f"The PipelineRun {name} is running" + (f": {message}" if message else "")


def read_pipelinerun(payload: Any) -> RunOutcome:
    """Map a PipelineRun (or a CloudEvent carrying one) to the outcome for its IIB request."""
    run = unwrap(payload)
    metadata = run["metadata"]
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    uid = metadata.get("uid")
    name = metadata.get("name")
    if not isinstance(uid, str) or not uid or not isinstance(name, str) or not name:
        raise ValidationError('The PipelineRun must have "metadata.uid" and "metadata.name"')
    raw_id = labels.get(LABEL_REQUEST_ID)
    request_id = None
    if raw_id is not None:
        try:
            request_id = int(raw_id)
        except (TypeError, ValueError):
            raise ValidationError(
                f'The label "{LABEL_REQUEST_ID}" must be a request id, not {raw_id!r}'
            ) from None
    request_type = labels.get(LABEL_REQUEST_TYPE) or "generic"
    if request_type not in TYPES:
        raise ValidationError(
            f'The label "{LABEL_REQUEST_TYPE}" names an unknown request type: {request_type}'
        )
    status = run.get("status") if isinstance(run.get("status"), dict) else {}
    spec = run.get("spec") if isinstance(run.get("spec"), dict) else {}
    results = {
        r["name"]: r.get("value")
        for r in status.get("results") or []
        if isinstance(r, dict) and isinstance(r.get("name"), str)
    }
    params = {
        p["name"]: p.get("value")
        for p in spec.get("params") or []
        if isinstance(p, dict) and isinstance(p.get("name"), str)
    }
    state, reason = _state(_succeeded_condition(status), name, request_type, results)
    fields = _fields_from(list(results.items()), request_type)
    fields.pop("state_reason", None)
    _image_results(results, request_type, fields)
    arches = fields.pop("arches", None)
    return RunOutcome(
        uid=uid,
        name=name,
        namespace=metadata.get("namespace") or "default",
        request_id=request_id,
        request_type=request_type,
        state=state,
        state_reason=reason,
        fields=fields,
        arches=[a for a in arches if isinstance(a, str) and a] if isinstance(arches, list) else [],
        user=annotations.get(ANNOTATION_USER) or labels.get(ANNOTATION_USER),
        status=status,
        start_time=status.get("startTime"),
        completion_time=status.get("completionTime"),
        params=_fields_from(list(params.items()), request_type),
    )
