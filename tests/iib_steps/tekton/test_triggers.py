"""The Triggers files (pipelines/triggers/) pass our structural and cross-reference checks, and the
checks find broken ones."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from iib_steps.tekton import schemas, triggers
from iib_steps.tekton.loader import Resource, load_files, trigger_files
from tests.conftest import ROOT

FILES = load_files(trigger_files(ROOT))


def by(kind: str, name: str) -> Resource:
    return next(r for r in FILES if r.kind == kind and r.name == name)


def test_the_listener_starts_add_and_fbc_operations(pipelines) -> None:
    assert {r.kind for r in FILES} == set(triggers.KINDS)
    assert all(r.api_version == "triggers.tekton.dev/v1beta1" for r in FILES)
    listener = by("EventListener", "iib-release-listener")
    started = set()
    for trigger in listener.spec["triggers"]:
        template = by("TriggerTemplate", trigger["template"]["ref"])
        started |= {run["spec"]["pipelineRef"]["name"] for run in template.spec["resourcetemplates"]}
        assert [i["ref"]["name"] for i in trigger["interceptors"]] == ["cel"]
    assert started == {"iib-add", "iib-fbc-operations"}
    assert triggers.check_triggers(FILES, pipelines) == []


def test_template_runs_are_strictly_valid_pipelineruns(schemas: Path) -> None:
    for template in [r for r in FILES if r.kind == "TriggerTemplate"]:
        for run in template.spec["resourcetemplates"]:
            assert schemas_problems(Resource(template.path, 0, run), schemas) == []


def schemas_problems(resource: Resource, schema_dir: Path) -> list[str]:
    return schemas.validate(resource, schema_dir)


def trig(body: dict) -> dict:
    return body["spec"]["triggers"][0]


def run(body: dict) -> dict:
    return body["spec"]["resourcetemplates"][0]["spec"]


def edited(kind: str, name: str, change) -> list[Resource]:
    out = []
    for r in FILES:
        if r.kind == kind and r.name == name:
            body = copy.deepcopy(r.body)
            change(body)
            r = Resource(r.path, r.index, body)
        out.append(r)
    return out


@pytest.mark.parametrize(
    ("kind", "name", "change", "expected"),
    [
        ("EventListener", "iib-release-listener",
         lambda b: trig(b)["bindings"][0].update(ref="nope"), "binding it names is not defined"),
        ("EventListener", "iib-release-listener",
         lambda b: trig(b)["template"].update(ref="nope"), "template is not defined"),
        ("EventListener", "iib-release-listener",
         lambda b: trig(b)["interceptors"][0]["params"].append({"name": "filtr", "value": "x"}),
         "not 'filtr'"),
        ("EventListener", "iib-release-listener", lambda b: b["spec"].update(serviceAcountName="x"),
         "unknown field 'serviceAcountName'"),
        ("TriggerBinding", "iib-add-binding",
         lambda b: b["spec"]["params"].append({"name": "extra", "value": "$(body.x)"}), "does not declare"),
        ("TriggerBinding", "iib-add-binding",
         lambda b: b["spec"]["params"][0].update(value="$(params.x)"), "is not $(body...)"),
        ("TriggerBinding", "iib-add-binding", lambda b: b["spec"]["params"].pop(1), "which no binding gives"),
        ("TriggerTemplate", "iib-add-template",
         lambda b: run(b)["params"][0].update(value="$(tt.params.nope)"),
         "not a declared param"),
        ("TriggerTemplate", "iib-add-template",
         lambda b: run(b)["params"][1].update(value="$(tt.params.bundles)"),
         "'bundles' must be an array"),
        ("TriggerTemplate", "iib-add-template",
         lambda b: run(b)["params"].append({"name": "x", "value": "y"}),
         "which Pipeline iib-add does not declare"),
        ("TriggerTemplate", "iib-add-template",
         lambda b: run(b)["workspaces"].append({"name": "w", "emptyDir": {}}),
         "binds workspace 'w'"),
    ],
)  # fmt: skip
def test_broken_triggers_are_found(kind: str, name: str, change, expected: str, pipelines) -> None:
    problems = triggers.check_triggers(edited(kind, name, change), pipelines)
    assert any(expected in p for p in problems), problems
