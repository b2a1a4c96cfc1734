"""IIB's queue routing (``IIB_USER_TO_QUEUE``), and where a queue's PipelineRuns run on a cluster.

As IIB's ``_get_user_queue``: the key is ``SERIAL:<user>`` for a request that overwrites its index,
else ``PARALLEL:<user>``, falling back to ``<user>``. The value is a queue name, or
``{<from_index pull spec>: queue, "all": default}``. No user (login disabled) or no entry: the
default queue (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from status_api.executors.base import Submission
from status_api.executors.params import serial_key


def user_queue(user_to_queue: dict[str, Any], submission: Submission) -> str | None:
    """The queue IIB would send ``submission`` to, or None for the default queue."""
    if not submission.user or not user_to_queue:
        return None
    serial = serial_key(submission) is not None
    prefix = "SERIAL" if serial else "PARALLEL"
    value = user_to_queue.get(f"{prefix}:{submission.user}", user_to_queue.get(submission.user))
    if isinstance(value, dict):
        index = submission.params.get(
            "target_index" if submission.request_type == "merge-index-image" else "from_index"
        )
        value = value.get(index, value.get("all")) if index else value.get("all")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Placement:
    """Where a PipelineRun is created and as whom it runs."""

    namespace: str
    service_account: str | None


def placement(
    queue: str | None,
    queues: dict[str, Any],
    namespace: str,
    service_account: str | None,
) -> Placement:
    """The namespace and service account of ``queue``: its entry in ``IIB_KUBERNETES_QUEUES``
    (``{"namespace": ..., "service_account": ...}``), else a namespace named after the queue; the
    defaults for the default queue."""
    if queue is None:
        return Placement(namespace, service_account)
    entry = queues.get(queue)
    if isinstance(entry, dict):
        return Placement(entry.get("namespace") or namespace, entry.get("service_account") or service_account)
    return Placement(queue, service_account)


def check_user_to_queue(value: dict[str, Any]) -> str | None:
    """An error message when ``IIB_USER_TO_QUEUE`` is malformed (IIB requires "all" in the dict form)."""
    for key, queue in value.items():
        if isinstance(queue, str):
            continue
        if not isinstance(queue, dict) or not all(isinstance(v, str) for v in queue.values()):
            return f"IIB_USER_TO_QUEUE[{key!r}] must be a queue name or a mapping of indexes to queues"
        if "all" not in queue:
            return f'IIB_USER_TO_QUEUE[{key!r}] must have an "all" key'
    return None
