"""The Triggers path for real events: the listener's CEL filters and overlays evaluated with a CEL
implementation (cel-python), the bindings and the template filled as Triggers fills them, and the
resulting PipelineRun checked against its Pipeline."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from iib_steps.tekton.loader import load_files, trigger_files
from iib_steps.tekton.triggers import _check_run
from tests.conftest import ROOT

celpy = pytest.importorskip("celpy", reason="cel-python (dev extra) is not installed")
FILES = {(r.kind, r.name): r for r in load_files(trigger_files(ROOT))}
LISTENER = FILES[("EventListener", "iib-release-listener")]
_VAR = re.compile(r"\$\(([^()]*)\)")


def _canonical(headers: Any, name: Any) -> Any:
    """Triggers' CEL extension ``header.canonical(name)``: the first value of a header, any case."""
    for key, values in dict(headers).items():
        if str(key).lower() == str(name).lower():
            return celpy.celtypes.StringType(str(values[0]))
    return celpy.celtypes.StringType("")


def evaluate(expression: str, activation: dict[str, Any]) -> Any:
    env = celpy.Environment()
    program = env.program(env.compile(expression), functions={"canonical": _canonical})
    return program.evaluate(activation)


def to_json(value: Any) -> Any:
    """A CEL value as plain JSON data."""
    if isinstance(value, celpy.celtypes.MapType):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, celpy.celtypes.ListType):
        return [to_json(v) for v in value]
    if isinstance(value, celpy.celtypes.BoolType):
        return bool(value)
    if isinstance(value, celpy.celtypes.StringType):
        return str(value)
    return value


def fire(body: dict[str, Any], headers: dict[str, str]) -> list[dict[str, Any]]:
    """The PipelineRuns the listener creates for one event."""
    event = {
        "body": celpy.json_to_cel(body),
        "header": celpy.json_to_cel({k: [v] for k, v in headers.items()}),
    }
    runs = []
    for trigger in LISTENER.spec["triggers"]:
        extensions: dict[str, Any] = {}
        passed = True
        for interceptor in trigger["interceptors"]:
            params = {p["name"]: p["value"] for p in interceptor["params"]}
            if not bool(evaluate(params["filter"], event)):
                passed = False
                break
            for overlay in params.get("overlays") or []:
                extensions[overlay["key"]] = to_json(evaluate(overlay["expression"], event))
        if not passed:
            continue
        data = {"body": body, "extensions": extensions}

        def lookup(expr: str, data: dict[str, Any] = data) -> str:
            root, _, path = expr.partition(".")
            value: Any = data[root]
            for part in path.split("."):
                value = value[part]
            return value if isinstance(value, str) else json.dumps(value)  # Triggers gives JSON text

        bound = {}
        for binding in trigger["bindings"]:
            for param in FILES[("TriggerBinding", binding["ref"])].spec["params"]:
                bound[param["name"]] = _VAR.sub(lambda m: lookup(m.group(1)), param["value"])
        template = FILES[("TriggerTemplate", trigger["template"]["ref"])].spec
        values = {p["name"]: bound.get(p["name"], p.get("default")) for p in template["params"]}
        text = json.dumps(template["resourcetemplates"])
        text = re.sub(
            r"\$\(tt\.params\.([A-Za-z0-9_-]+)\)",
            lambda m, values=values: json.dumps(values[m.group(1)])[1:-1],
            text,
        )
        runs += json.loads(text)
    return runs


def test_a_plain_add_event_starts_iib_add_with_its_lists(pipelines) -> None:
    body = {"request_type": "add", "from_index": "reg.example.com/index:v4.17",
            "bundles": ["quay.io/ns/a-bundle:1", "quay.io/ns/b-bundle:2"]}  # fmt: skip
    [run] = fire(body, {"Content-Type": "application/json"})
    assert run["spec"]["pipelineRef"]["name"] == "iib-add"
    params = {p["name"]: p["value"] for p in run["spec"]["params"]}
    assert params["from-index"] == "reg.example.com/index:v4.17"
    # Each list reaches its array param as one JSON-array element, which iib-step reads as the list.
    assert [json.loads(v) for v in params["bundles"]] == [body["bundles"]]
    assert [json.loads(v) for v in params["build-tags"]] == [[]]
    assert _check_run(run, pipelines) == []


def test_a_cloudevent_starts_iib_fbc_operations() -> None:
    body = {"from_index": "reg.example.com/index:v4.17", "fbc_fragments": ["quay.io/ns/frag:1"],
            "add_arches": ["amd64"]}  # fmt: skip
    [run] = fire(body, {"Ce-Type": "dev.iib.request.fbc-operations", "Ce-Id": "1", "Ce-Source": "release"})
    assert run["spec"]["pipelineRef"]["name"] == "iib-fbc-operations"
    params = {p["name"]: p["value"] for p in run["spec"]["params"]}
    assert [json.loads(v) for v in params["fbc-fragments"]] == [["quay.io/ns/frag:1"]]
    assert [json.loads(v) for v in params["add-arches"]] == [["amd64"]]


def test_other_events_start_nothing() -> None:
    assert fire({"request_type": "rm", "operators": ["x"]}, {}) == []
    assert fire({"action": "published"}, {"Ce-Type": "dev.iib.request.rm"}) == []


def test_the_step_reads_a_json_array_element_as_the_list() -> None:
    from iib_steps.commands.build_cmds import _list

    bundles = ["quay.io/ns/a-bundle:1", "quay.io/ns/b-bundle:2"]
    assert _list([json.dumps(bundles)]) == bundles
    assert _list(["[]"]) == []
