"""The Tasks' steps really drive ``iib-step``: each step's command, args and env, with params, results
and workspaces substituted as Tekton does, run against OCI layouts and checked by reading the image.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from iib_steps.tekton.loader import Resource, load_file
from tests.conftest import ROOT
from tests.iib_steps.steps.conftest import oci_world  # noqa: F401  (module fixture)

STEP_BIN = Path(sys.executable).with_name("iib-step")
_VAR = re.compile(r"\$\(([^()]*)\)")


def task(name: str) -> Resource:
    return load_file(ROOT / "tasks" / name / "0.1" / f"{name}.yaml")[0]


def substitute(value: str, values: dict[str, Any]) -> list[str]:
    """Tekton's replacement for one args element: an array param as a whole element expands."""
    whole = _VAR.fullmatch(value)
    if whole and isinstance(values.get(whole.group(1)), list):
        return list(values[whole.group(1)])
    return [_VAR.sub(lambda m: str(values[m.group(1)]), value)]


def run_task(resource: Resource, params: dict[str, Any], work: Path, workspaces: dict[str, Path]) -> dict:
    """Run every step of ``resource`` as Tekton would, with /var/workdir mounted at ``work``."""
    spec = resource.spec
    values: dict[str, Any] = {}
    for p in spec["params"]:
        value = params.get(p["name"], p.get("default"))
        assert value is not None, f"param {p['name']} is required"
        values[f"params.{p['name']}" + ("[*]" if p.get("type") == "array" else "")] = value
    results = work / "tekton-results"
    results.mkdir(parents=True)
    for r in spec.get("results") or []:
        values[f"results.{r['name']}.path"] = str(results / r["name"])
    for w in spec.get("workspaces") or []:
        bound = workspaces.get(w["name"])
        values[f"workspaces.{w['name']}.path"] = str(bound) if bound else ""
    mount = work / "workdir"
    mount.mkdir()
    template = spec.get("stepTemplate") or {}
    for step in spec["steps"]:
        env = {e["name"]: e["value"] for e in (template.get("env") or []) + (step.get("env") or [])}
        env = {k: substitute(v, values)[0].replace("/var/workdir", str(mount)) for k, v in env.items()}
        argv = [a for arg in step["args"] for a in substitute(arg, values)]
        argv = [a.replace("/var/workdir", str(mount)) for a in argv]
        assert step["command"] == ["iib-step"]
        done = subprocess.run(
            [str(STEP_BIN), *argv],
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    return {
        r["name"]: (results / r["name"]).read_text()
        for r in spec.get("results") or []
        if (results / r["name"]).exists()
    }


def settings_workspace(world, tmp_path: Path) -> Path:
    folder = tmp_path / "steps-config"
    folder.mkdir()
    shutil.copy(world.settings, folder / "config.yaml")  # as a mounted ConfigMap
    return folder


def test_iib_add_task_adds_bundles_and_writes_its_results(oci_world, tmp_path: Path) -> None:  # noqa: F811
    world = oci_world
    bundle = world.bundles["dbaas-operator-0.5.0"]
    out = run_task(
        task("iib-add"),
        {"from-index": world.index, "bundles": [bundle], "build-tags": ["extra-tag"], "request-id": "7001"},
        tmp_path,
        {"steps-config": settings_workspace(world, tmp_path)},
    )
    assert out["IMAGE_URL"] == world.output("7001")
    assert out["IMAGE_DIGEST"].startswith("sha256:") and out["IMAGE_REF"].endswith("@" + out["IMAGE_DIGEST"])
    assert json.loads(out["arches"]) and set(out) >= {"bundle_mapping", "indexImageDigests"}
    assert bundle in json.loads(out["bundle_mapping"])["dbaas-operator"]
    cfg = world.catalog_of(world.output("extra-tag"), tmp_path / "catalog")
    assert "dbaas-operator" in cfg.package_names()


def test_iib_rm_task_with_an_empty_array_and_unbound_workspaces(oci_world, tmp_path: Path) -> None:  # noqa: F811
    world = oci_world
    out = run_task(
        task("iib-rm"),
        {"from-index": world.index, "operators": ["kube-green"], "request-id": "7002"},
        tmp_path,
        {"steps-config": settings_workspace(world, tmp_path)},
    )
    assert out["IMAGE_URL"] == world.output("7002")
    cfg = world.catalog_of(world.output("7002"), tmp_path / "catalog")
    assert "kube-green" not in cfg.package_names()


def test_a_failing_task_says_why_in_one_line(oci_world, tmp_path: Path) -> None:  # noqa: F811
    world = oci_world
    with pytest.raises(AssertionError) as failed:
        run_task(
            task("iib-rm"),
            {"from-index": world.index, "operators": []},
            tmp_path,
            {"steps-config": settings_workspace(world, tmp_path)},
        )
    errors = [line for line in str(failed.value).splitlines() if line.strip().startswith("error:")]
    assert len(errors) == 1 and "operators" in errors[0]
    assert "Traceback" not in str(failed.value)


def test_konflux_s_update_fbc_catalog_reads_the_fbc_operations_results(oci_world, tmp_path: Path) -> None:  # noqa: F811
    """The params as update-fbc-catalog passes them (JSON arrays inside one array element) and the
    results as Konflux's add-fbc-contribution decodes them."""
    import base64
    import gzip

    world = oci_world
    others = ["ecr-secret-operator", "kairos-operator", "libredb-studio-operator",
              "multicluster-global-hub-operator", "odf-node-recovery-operator",
              "openstack-lightspeed-operator", "shipwright-operator"]  # fmt: skip
    config = settings_workspace(world, tmp_path)
    run_task(task("iib-rm"), {"from-index": world.index, "operators": others, "request-id": "7101"},
             tmp_path / "fragment", {"steps-config": config})  # fmt: skip
    run_task(task("iib-rm"), {"from-index": world.index, "operators": ["kube-green"], "request-id": "7102"},
             tmp_path / "without", {"steps-config": config})  # fmt: skip
    fragment = world.output("7101")
    out = run_task(
        task("iib-fbc-operations"),
        {"from-index": world.output("7102"), "fbc-fragments": [json.dumps([fragment])], "build-tags": ["[]"],
         "add-arches": ["[]"], "overwrite-from-index": "false", "request-id": "7103"},
        tmp_path / "fbc",
        {"steps-config": config},
    )  # fmt: skip
    info = json.loads(gzip.decompress(base64.b64decode(out["jsonBuildInfo"])))
    assert info["state"] == "complete" and info["fbc_fragments"] == [fragment]
    assert info["index_image"] == out["IMAGE_URL"] and info["index_image_resolved"] == out["IMAGE_REF"]
    assert info["updated"].endswith("Z")
    assert json.loads(out["buildState"]) == {"state": "complete", "state_reason": info["state_reason"]}
    assert out["exitCode"] == "0" and out["indexImageDigests"].startswith("sha256:")
    cfg = world.catalog_of(out["IMAGE_URL"], tmp_path / "catalog")
    assert "kube-green" in cfg.package_names()
