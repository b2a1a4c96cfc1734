"""Real-shaped Tekton v1 PipelineRun objects, as the API server returns them, for the mapping tests."""

from __future__ import annotations

import copy
from typing import Any

DIGEST = "sha256:" + "4f" * 32


def pipelinerun(
    name: str = "iib-add-x7k2p",
    *,
    uid: str = "6c1f0e0a-2b7d-4a51-9d7e-3f9a8e1c2b01",
    request_id: int | None = None,
    request_type: str = "add",
    condition: dict[str, Any] | None = None,
    results: list[dict[str, Any]] | None = None,
    params: list[dict[str, Any]] | None = None,
    resource_version: str = "48213",
    user: str | None = None,
) -> dict[str, Any]:
    labels = {
        "tekton.dev/pipeline": f"iib-{request_type}",
        "app.kubernetes.io/part-of": "iib",
        "iib.redhat.com/request-type": request_type,
    }
    if request_id is not None:
        labels["iib.redhat.com/request-id"] = str(request_id)
    run: dict[str, Any] = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {
            "name": name,
            "namespace": "iib",
            "uid": uid,
            "resourceVersion": resource_version,
            "generation": 1,
            "creationTimestamp": "2026-11-20T10:00:00Z",
            "labels": labels,
            "annotations": {"iib.redhat.com/user": user} if user else {},
        },
        "spec": {
            "pipelineRef": {
                "resolver": "bundles",
                "params": [
                    {"name": "bundle", "value": "quay.io/iib/tekton-bundle@" + DIGEST},
                    {"name": "name", "value": f"iib-{request_type}"},
                    {"name": "kind", "value": "pipeline"},
                ],
            },
            "params": params
            or [
                {"name": "from_index", "value": "registry.example.com/index:v4.17"},
                {"name": "bundles", "value": ["quay.io/ns/etcd-bundle:0.9.4"]},
                {"name": "binary_image", "value": "registry.example.com/opm:v4.17"},
            ],
            "taskRunTemplate": {"serviceAccountName": "iib-pipeline"},
            "timeouts": {"pipeline": "2h0m0s"},
        },
        "status": {
            "startTime": "2026-11-20T10:00:01Z",
            "conditions": [
                condition
                or {
                    "type": "Succeeded",
                    "status": "Unknown",
                    "reason": "Running",
                    "message": "Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0",
                    "lastTransitionTime": "2026-11-20T10:00:02Z",
                }
            ],
            "childReferences": [
                {
                    "apiVersion": "tekton.dev/v1",
                    "kind": "TaskRun",
                    "name": f"{name}-build",
                    "pipelineTaskName": "build",
                }
            ],
        },
    }
    if results is not None:
        run["status"]["results"] = results
    if condition and condition.get("status") in ("True", "False"):
        run["status"]["completionTime"] = condition.get("lastTransitionTime", "2026-11-20T10:05:00Z")
    return run


def succeeded(**kwargs: Any) -> dict[str, Any]:
    return pipelinerun(
        condition={
            "type": "Succeeded",
            "status": "True",
            "reason": "Succeeded",
            "message": "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0",
            "lastTransitionTime": "2026-11-20T10:05:00Z",
        },
        **kwargs,
    )


def failed(
    reason: str = "Failed",
    message: str = "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 0",
    **kwargs: Any,
) -> dict[str, Any]:
    return pipelinerun(
        condition={
            "type": "Succeeded",
            "status": "False",
            "reason": reason,
            "message": message,
            "lastTransitionTime": "2026-11-20T10:05:00Z",
        },
        **kwargs,
    )


def cancelled(**kwargs: Any) -> dict[str, Any]:
    return failed("Cancelled", 'PipelineRun "iib-add-x7k2p" was cancelled', **kwargs)


def timed_out(**kwargs: Any) -> dict[str, Any]:
    return failed(
        "PipelineRunTimeout", 'PipelineRun "iib-add-x7k2p" failed to finish within "2h0m0s"', **kwargs
    )


ADD_RESULTS = [
    {"name": "index_image", "value": "quay.io/iib/iib-build:42"},
    {"name": "index_image_resolved", "value": "quay.io/iib/iib-build@" + DIGEST},
    {"name": "arches", "value": ["amd64", "s390x"]},
    {"name": "bundle_mapping", "value": {"etcd": ["quay.io/ns/etcd-bundle:0.9.4"]}},
    {"name": "IMAGE_URL", "value": "quay.io/iib/iib-build:42"},
    {"name": "IMAGE_DIGEST", "value": DIGEST},
]


def cloudevent(run: dict[str, Any]) -> dict[str, Any]:
    """The body Tekton's events controller POSTs to a sink."""
    return {"pipelineRun": copy.deepcopy(run)}
