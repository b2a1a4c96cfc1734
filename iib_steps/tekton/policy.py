"""Our own conventions for the Tasks and Pipelines we ship (spec/tekton.md §4, §8): catalog layout and
metadata, the step image, non-root steps with resources, secrets only in workspaces, README content.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from iib_steps.tekton.loader import Resource

ANNOTATIONS = (
    "tekton.dev/pipelines.minVersion",
    "tekton.dev/categories",
    "tekton.dev/tags",
    "tekton.dev/displayName",
    "tekton.dev/platforms",
)
RUN_AS_USER = 65532
STEP_IMAGE_PARAM = "step-image"
COMMON_PIPELINE_PARAMS = ("request-id", "status-api-url", STEP_IMAGE_PARAM)
_SECRET_WORDS = re.compile(r"(password|token|secret|credential|keytab)", re.IGNORECASE)
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def check_layout(resource: Resource) -> list[str]:
    """``<kind dir>/<name>/<version>/<name>.yaml``, the version label, annotations, a description."""
    problems = []
    path = resource.path
    version_dir, name_dir = path.parent.name, path.parent.parent.name
    if path.stem != resource.name or name_dir != resource.name:
        problems.append(f"the file should be {resource.name}/<version>/{resource.name}.yaml")
    labels = (resource.body.get("metadata") or {}).get("labels") or {}
    if labels.get("app.kubernetes.io/version") != version_dir:
        problems.append(f"label app.kubernetes.io/version must be {version_dir!r}, the folder's version")
    annotations = (resource.body.get("metadata") or {}).get("annotations") or {}
    problems += [f"annotation {a} is missing" for a in ANNOTATIONS if not annotations.get(a)]
    if not str(resource.spec.get("description", "")).strip():
        problems.append("spec.description is missing")
    return problems


def _steps(spec: dict[str, Any]) -> list[dict[str, Any]]:
    template = spec.get("stepTemplate") or {}
    merged = []
    for step in spec.get("steps") or []:
        both = {**template, **step}
        both["securityContext"] = {
            **(template.get("securityContext") or {}),
            **(step.get("securityContext") or {}),
        }
        merged.append(both)
    return merged


def check_task_policy(task: Resource, step_image: str) -> list[str]:
    """Step image by param (default: the released image), non-root, resources, secrets as workspaces."""
    problems = []
    spec = task.spec
    params = {str(p.get("name")): p for p in spec.get("params") or []}
    image_param = params.get(STEP_IMAGE_PARAM)
    if image_param is None:
        problems.append(f"param {STEP_IMAGE_PARAM!r} is missing")
    elif image_param.get("default") != step_image:
        problems.append(f"param {STEP_IMAGE_PARAM!r} must default to {step_image} (tasks/STEP_IMAGE)")
    if not _DIGEST.search(step_image):
        problems.append(f"the step image {step_image} is not pinned by digest")
    for step in _steps(spec):
        name = step.get("name")
        if step.get("image") != f"$(params.{STEP_IMAGE_PARAM})":
            problems.append(f"step {name!r} must run $(params.{STEP_IMAGE_PARAM})")
        context = step["securityContext"]
        if context.get("runAsNonRoot") is not True or context.get("runAsUser") != RUN_AS_USER:
            problems.append(f"step {name!r} must run as non-root user {RUN_AS_USER}")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"step {name!r} must set allowPrivilegeEscalation: false")
        resources = step.get("computeResources") or {}
        if not resources.get("requests") or not (resources.get("limits") or {}).get("memory"):
            problems.append(f"step {name!r} needs computeResources requests and a memory limit")
        if step.get("script"):
            problems.append(f"step {name!r} has a script; call iib-step through command and args")
    for name in params:
        if _SECRET_WORDS.search(name):
            problems.append(f"param {name!r} looks like a secret; take secrets from an optional workspace")
    for ws in spec.get("workspaces") or []:
        if not ws.get("optional"):
            problems.append(f"workspace {ws.get('name')!r} must be optional")
    if not any("emptyDir" in v for v in spec.get("volumes") or []):
        problems.append("the steps need an emptyDir volume for their scratch space")
    return problems


def check_pipeline_policy(pipeline: Resource) -> list[str]:
    """Every Pipeline of a request type takes the common params and reports in ``finally``."""
    problems = []
    if not pipeline.name.startswith("iib-"):
        return problems
    params = {str(p.get("name")) for p in pipeline.spec.get("params") or []}
    problems += [f"param {p!r} is missing" for p in COMMON_PIPELINE_PARAMS if p not in params]
    reports = [
        t for t in pipeline.spec.get("finally") or [] if (t.get("taskRef") or {}).get("name") == "iib-report"
    ]
    if len(reports) != 1:
        problems.append("a finally task must run iib-report")
    else:
        when = reports[0].get("when") or []
        guarded = any(
            w.get("input") == "$(params.status-api-url)" and w.get("operator") == "notin" for w in when
        )
        if not guarded:
            problems.append("the iib-report task must be skipped when status-api-url is empty")
    return problems


_TABLE_NAME = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def readme_names(readme: Path, section: str) -> list[str]:
    """The first-column names of the Markdown table under the heading ``## <section>``."""
    names: list[str] = []
    inside = False
    for line in readme.read_text().splitlines():
        if line.startswith("## "):
            inside = line[3:].strip().lower() == section.lower()
            continue
        if inside:
            match = _TABLE_NAME.match(line)
            if match:
                names.append(match.group(1))
    return names


def check_readme(resource: Resource) -> list[str]:
    """README.md beside the YAML lists exactly the params, results and workspaces."""
    readme = resource.path.parent / "README.md"
    if not readme.exists():
        return ["README.md is missing"]
    problems = []
    for section in ("Params", "Results", "Workspaces"):
        declared = [str(x.get("name")) for x in resource.spec.get(section.lower()) or []]
        listed = readme_names(readme, section)
        if sorted(listed) != sorted(declared):
            missing = sorted(set(declared) - set(listed))
            extra = sorted(set(listed) - set(declared))
            problems.append(f"README.md {section}: missing {missing}, not declared {extra}")
    return problems
