"""THE one mapping from a build request to the PipelineRun that builds it, used by every executor.

The Pipeline of a request type is ``iib-<type>`` (``pipelines/iib-<type>/0.1/iib-<type>.yaml``). Its
params are named after the ``iib-step <type>`` options in kebab-case (``from-index``, ``bundles``,
``add-arches`` ...), plus ``request-id``, ``status-api-url``, ``step-image`` and ``traceparent``.
Values are Tekton's kinds: a string, or an array of strings; booleans are ``"true"``/``"false"``;
mappings (``labels``, ``bundle-replacements``) are JSON text, as the step options take them. An unset
value is left out, so the Pipeline's default applies.

Secrets never become params: each is a file in its own optional workspace (a Secret on a cluster, a
private folder locally), in the layout the steps read (a folder holding ``token`` or
``config.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from status_api.executors.base import Submission
from status_api.pipelinerun import ANNOTATION_USER, LABEL_REQUEST_ID, LABEL_REQUEST_TYPE

PART_OF = ("app.kubernetes.io/part-of", "iib")
# The trace context of the POST, when tracing is on (put in the params by status_api.tracing):
# the run carries it as an annotation and as the Pipeline param ``traceparent``.
TRACEPARENT = "traceparent"
ANNOTATION_TRACEPARENT = "iib.tekton.dev/traceparent"

# The request fields each request type passes to its Pipeline (the ``Submission.params`` keys).
_INDEX = (
    "from_index",
    "binary_image",
    "add_arches",
    "build_tags",
    "distribution_scope",
    "overwrite_from_index",
)
REQUEST_PARAMS: dict[str, tuple[str, ...]] = {
    "add": (
        *_INDEX,
        "bundles",
        "deprecation_list",
        "graph_update_mode",
        "check_related_images",
        "organization",
        "greenwave_config",  # added by the API for a gated queue (status_api/greenwave.py)
    ),
    "rm": (*_INDEX, "operators"),
    "fbc-operations": (*_INDEX, "fbc_fragments"),
    "create-empty-index": ("from_index", "binary_image", "distribution_scope", "labels"),
    "add-deprecations": (*_INDEX, "operator_package", "deprecation_schema"),
    "regenerate-bundle": ("from_bundle_image", "organization", "bundle_replacements"),
    "recursive-related-bundles": ("parent_bundle_image", "organization"),
    "merge-index-image": (
        "source_from_index",
        "target_index",
        "deprecation_list",
        "binary_image",
        "distribution_scope",
        "build_tags",
        "graph_update_mode",
        "ignore_bundle_ocp_version",
        "overwrite_target_index",
    ),
}

# Workspaces: the steps' settings file, the registry credentials of the deployment, the status API
# token the steps report with, and one per request secret.
WORKSPACE_SETTINGS = "steps-config"  # the names the Tasks and Pipelines declare
WORKSPACE_REGISTRY_AUTH = "registry-credentials"
WORKSPACE_STATUS_API_TOKEN = "status-api-token"
SETTINGS_KEY = "config.yaml"
TOKEN_KEY = "token"
AUTH_KEY = "config.json"
# request secret → (workspace, key in it)
SECRET_WORKSPACES: dict[str, tuple[str, str]] = {
    "overwrite_from_index_token": ("overwrite-from-index-token", TOKEN_KEY),
    "overwrite_target_index_token": ("overwrite-target-index-token", TOKEN_KEY),
    "registry_auths": ("registry-auths", AUTH_KEY),
}


def pipeline_name(request_type: str) -> str:
    """The Pipeline that builds ``request_type`` (its name in a bundle, on a cluster, or on disk)."""
    return f"iib-{request_type}"


def param_name(field: str) -> str:
    return field.replace("_", "-")


def param_value(value: Any) -> str | list[str] | None:
    """A request value as a Tekton param value; None when unset (the Pipeline's default applies)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


@dataclass(frozen=True)
class RunSettings:
    """What the deployment adds to every run: where steps report, and the step image."""

    status_api_url: str | None = None
    step_image: str | None = None


def pipeline_params(submission: Submission, run: RunSettings) -> dict[str, str | list[str]]:
    """The params of the request's PipelineRun, by name, in a stable order."""
    if submission.request_type not in REQUEST_PARAMS:
        raise ValueError(f"no Pipeline builds requests of type {submission.request_type}")
    params: dict[str, str | list[str]] = {"request-id": str(submission.request_id)}
    for field in REQUEST_PARAMS[submission.request_type]:
        value = param_value(submission.params.get(field))
        if value is not None:
            params[param_name(field)] = value
    for name, value in (
        ("status-api-url", run.status_api_url),
        ("step-image", run.step_image),
        (TRACEPARENT, submission.params.get(TRACEPARENT)),
    ):
        if value:
            params[name] = value
    return params


def tekton_params(params: dict[str, str | list[str]]) -> list[dict[str, Any]]:
    """``spec.params`` of a PipelineRun."""
    return [{"name": name, "value": value} for name, value in params.items()]


def secret_files(submission: Submission) -> dict[str, dict[str, str]]:
    """The request's secrets as ``{workspace: {key: content}}``; secrets not set are left out."""
    out: dict[str, dict[str, str]] = {}
    for secret, (workspace, key) in SECRET_WORKSPACES.items():
        value = submission.secrets.get(secret)
        if not value:
            continue
        out[workspace] = {key: value if isinstance(value, str) else json.dumps(value)}
    return out


def run_labels(submission: Submission) -> dict[str, str]:
    """Labels naming the request on its PipelineRun (what recording and the watcher select on)."""
    return {
        PART_OF[0]: PART_OF[1],
        LABEL_REQUEST_ID: str(submission.request_id),
        LABEL_REQUEST_TYPE: submission.request_type,
    }


def run_annotations(submission: Submission) -> dict[str, str]:
    """Annotations: the user (a user name may not be a label value) and the POST's trace context."""
    out = {ANNOTATION_USER: submission.user} if submission.user else {}
    if submission.params.get(TRACEPARENT):
        out[ANNOTATION_TRACEPARENT] = str(submission.params[TRACEPARENT])
    return out


def run_name(prefix: str, submission: Submission) -> str:
    """A PipelineRun name that is the same for the same request, so that a retry cannot start it twice."""
    return f"{prefix}-{submission.request_type}-{submission.request_id}"


def serial_key(submission: Submission) -> str | None:
    """The index a request overwrites, if any: such requests run one after another (IIB's serial queues)."""
    params = submission.params
    if submission.request_type == "merge-index-image":
        return params.get("target_index") if params.get("overwrite_target_index") else None
    return params.get("from_index") if params.get("overwrite_from_index") else None


def local_status_url(host: str, port: int) -> str:
    """The status API URL for steps on this machine, given the address the server listens on."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/api/v1"
