"""Structural and cross-reference checks for Tekton Triggers objects (``triggers.tekton.dev/v1beta1``).

There is no CRD schema for Triggers in ``../shared/tekton-schemas``, so this module checks what our
files use: the fields each kind may have (unknown ones are errors), that an EventListener's
bindings and templates exist, that CEL interceptors get only ``filter`` and ``overlays``, that
bindings read only the event (``$(body.*)``, ``$(header.*)``, ``$(extensions.*)``), and that a
TriggerTemplate's PipelineRuns use declared ``$(tt.params.*)`` and give their Pipeline what it needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from iib_steps.tekton import checks
from iib_steps.tekton.loader import Resource
from iib_steps.tekton.refs import find_refs

API_VERSION = "triggers.tekton.dev/v1beta1"
KINDS = ("EventListener", "TriggerBinding", "TriggerTemplate")
INTERCEPTORS = ("cel", "github", "gitlab", "bitbucket", "slack")
_TOP = {"apiVersion", "kind", "metadata", "spec"}
_FIELDS: dict[str, dict[str, set[str]]] = {
    "EventListener": {
        "spec": {
            "serviceAccountName",
            "triggers",
            "namespaceSelector",
            "labelSelector",
            "resources",
            "cloudEventURI",
        },
        "trigger": {"name", "interceptors", "bindings", "template", "triggerRef", "serviceAccountName"},
        "interceptor": {"name", "ref", "params"},
    },
    "TriggerBinding": {"spec": {"params"}, "param": {"name", "value"}},
    "TriggerTemplate": {"spec": {"params", "resourcetemplates"}, "param": {"name", "description", "default"}},
}
_EVENT_REF = re.compile(r"^(body|header|extensions)(\.|\[|$)")
_TT_PARAM = re.compile(r"^tt\.params\.([A-Za-z0-9_.-]+)$")


def _unknown(where: str, item: Any, allowed: set[str]) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where} must be a mapping"]
    return [f"{where}: unknown field {key!r}" for key in sorted(set(item) - allowed)]


def check_shape(resource: Resource) -> list[str]:
    """Fields of one Triggers object (what a strict schema would say)."""
    if resource.api_version != API_VERSION or resource.kind not in KINDS:
        return [f"{resource.api_version} {resource.kind} is not a Triggers kind we use ({API_VERSION})"]
    fields = _FIELDS[resource.kind]
    problems = _unknown("(top)", resource.body, _TOP) + _unknown("spec", resource.spec, fields["spec"])
    if not resource.name:
        problems.append("metadata.name is missing")
    if resource.kind == "EventListener":
        triggers = resource.spec.get("triggers") or []
        if not triggers:
            problems.append("spec.triggers is empty")
        for i, trigger in enumerate(triggers):
            at = f"spec.triggers.{i}"
            problems += _unknown(at, trigger, fields["trigger"])
            for j, interceptor in enumerate(trigger.get("interceptors") or []):
                problems += _check_interceptor(f"{at}.interceptors.{j}", interceptor, fields["interceptor"])
            for j, binding in enumerate(trigger.get("bindings") or []):
                if not isinstance(binding, dict) or not binding.get("ref"):
                    problems.append(f"{at}.bindings.{j}: give a ref to a TriggerBinding")
            if not (trigger.get("template") or {}).get("ref"):
                problems.append(f"{at}.template: give a ref to a TriggerTemplate")
    else:
        for i, param in enumerate(resource.spec.get("params") or []):
            problems += _unknown(f"spec.params.{i}", param, fields["param"])
            if not param.get("name"):
                problems.append(f"spec.params.{i}: name is missing")
        names = [str(p.get("name")) for p in resource.spec.get("params") or []]
        problems += [f"param {n!r} is declared twice" for n in checks._duplicates(names)]
    if resource.kind == "TriggerBinding":
        for i, param in enumerate(resource.spec.get("params") or []):
            for ref in find_refs(param.get("value"), f"spec.params.{i}.value"):
                if not _EVENT_REF.match(ref.expr):
                    problems.append(
                        f"{ref.where}: $({ref.expr}) is not $(body...), $(header...) or $(extensions...)"
                    )
    if resource.kind == "TriggerTemplate":
        problems += _check_template(resource)
    return problems


def _check_interceptor(where: str, interceptor: Any, allowed: set[str]) -> list[str]:
    problems = _unknown(where, interceptor, allowed)
    name = str((interceptor.get("ref") or {}).get("name", "")) if isinstance(interceptor, dict) else ""
    if name not in INTERCEPTORS:
        return [*problems, f"{where}: interceptor {name!r} is not one of {', '.join(INTERCEPTORS)}"]
    params = {str(p.get("name")): p.get("value") for p in interceptor.get("params") or []}
    if name == "cel":
        problems += [f"{where}: the cel interceptor takes filter and overlays, not {n!r}"
                     for n in sorted(set(params) - {"filter", "overlays"})]  # fmt: skip
        if "filter" in params and not isinstance(params["filter"], str):
            problems.append(f"{where}: the cel filter must be a string")
        for k, overlay in enumerate(params.get("overlays") or []):
            if not isinstance(overlay, dict) or set(overlay) != {"key", "expression"}:
                problems.append(f"{where}: overlay {k} needs exactly key and expression")
    return problems


def _check_template(template: Resource) -> list[str]:
    problems = []
    declared = {str(p.get("name")) for p in template.spec.get("params") or []}
    runs = template.spec.get("resourcetemplates") or []
    if not runs:
        problems.append("spec.resourcetemplates is empty")
    used = set()
    for ref in find_refs(runs, "spec.resourcetemplates"):
        match = _TT_PARAM.match(ref.expr)
        if match:
            used.add(match.group(1))
            if match.group(1) not in declared:
                problems.append(f"{ref.where}: $({ref.expr}) is not a declared param")
        elif ref.expr.startswith("tt."):
            problems.append(f"{ref.where}: $({ref.expr}) is not a $(tt.params.<name>) reference")
    problems += [f"param {n!r} is never used" for n in sorted(declared - used)]
    return problems


def check_triggers(resources: list[Resource], pipelines: Mapping[str, Resource]) -> list[str]:
    """Across the Triggers files: refs exist, bindings fill templates, runs fit their Pipelines."""
    problems: list[str] = []
    by_kind: dict[str, dict[str, Resource]] = {kind: {} for kind in KINDS}
    for resource in resources:
        problems += [f"{resource.where()}: {p}" for p in check_shape(resource)]
        if resource.kind in by_kind:
            by_kind[resource.kind][resource.name] = resource
    for listener in by_kind["EventListener"].values():
        for trigger in listener.spec.get("triggers") or []:
            at = f"{listener.where()}: trigger {trigger.get('name')}"
            bindings = [
                by_kind["TriggerBinding"].get(str(b.get("ref"))) for b in trigger.get("bindings") or []
            ]
            if None in bindings:
                problems.append(f"{at}: a binding it names is not defined")
            template = by_kind["TriggerTemplate"].get(str((trigger.get("template") or {}).get("ref")))
            if template is None:
                problems.append(f"{at}: its template is not defined")
                continue
            bound = {str(p.get("name")) for b in bindings if b for p in b.spec.get("params") or []}
            params = {str(p.get("name")): p for p in template.spec.get("params") or []}
            problems += [
                f"{at}: binds {n!r}, which {template.name} does not declare"
                for n in sorted(bound - set(params))
            ]
            unbound = [n for n, p in sorted(params.items()) if "default" not in p and n not in bound]
            problems += [f"{at}: {template.name} needs {n!r}, which no binding gives" for n in unbound]
    for template in by_kind["TriggerTemplate"].values():
        for i, run in enumerate(template.spec.get("resourcetemplates") or []):
            run_resource = Resource(template.path, template.index, run)
            at = f"{template.where()}: resourcetemplates.{i}"
            problems += [f"{at}: {p}" for p in checks.check_resource(run_resource)]
            problems += [f"{at}: {p}" for p in _check_run(run, pipelines)]
    return problems


def _check_run(run: dict[str, Any], pipelines: Mapping[str, Resource]) -> list[str]:
    """A PipelineRun against the Pipeline it names: params, their types, workspaces."""
    if run.get("kind") != "PipelineRun":
        return []
    spec = run.get("spec") or {}
    name = (spec.get("pipelineRef") or {}).get("name")
    if not name:
        return []
    pipeline = pipelines.get(str(name))
    if pipeline is None:
        return [f"Pipeline {name!r} is not defined here"]
    problems = []
    declared = {str(p["name"]): p for p in pipeline.spec.get("params") or []}
    given = {str(p.get("name")): p.get("value") for p in spec.get("params") or []}
    problems += [
        f"passes {n!r}, which Pipeline {name} does not declare" for n in sorted(set(given) - set(declared))
    ]
    for n, p in declared.items():
        if n not in given and "default" not in p:
            problems.append(f"does not pass {n!r}, which Pipeline {name} requires")
        elif n in given and (p.get("type") == "array") != isinstance(given[n], list):
            problems.append(f"{n!r} must be {'an array' if p.get('type') == 'array' else 'a string'}")
    workspaces = {str(w["name"]): w for w in pipeline.spec.get("workspaces") or []}
    bound = {str(w.get("name")) for w in spec.get("workspaces") or []}
    problems += [
        f"binds workspace {n!r}, which Pipeline {name} does not declare"
        for n in sorted(bound - set(workspaces))
    ]
    needed = [n for n, w in sorted(workspaces.items()) if n not in bound and not w.get("optional")]
    problems += [f"does not bind workspace {n!r}, which Pipeline {name} needs" for n in needed]
    return problems
