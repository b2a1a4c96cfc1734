"""``iib-step tekton bundle push|list`` against the real registry, read back by skopeo and layer by layer."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from iib_steps.tekton import checks, schemas
from iib_steps.tekton.bundle import MAX_OBJECTS
from iib_steps.tekton.loader import Resource
from tests.conftest import ROOT
from tests.fixtures.registry import skopeo

STEP = str(Path(sys.executable).with_name("iib-step"))
TASK_FILES = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("tasks/*/0.1/*.yaml"))
PIPELINE_FILES = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("pipelines/*/0.1/*.yaml"))


def step(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STEP, "tekton", "bundle", *args], cwd=ROOT, capture_output=True, text=True, check=False, env=env
    )


def push(ref: str, files: list[str], *extra: str, registry_host: str | None = None) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    if registry_host:
        env["IIB_INSECURE_REGISTRIES"] = registry_host
    done = step("push", ref, *[a for f in files for a in ("-f", f)], *extra, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Creating Tekton Bundle:"
    assert lines[-1].startswith("Pushed Tekton Bundle to ")
    return lines[-1].removeprefix("Pushed Tekton Bundle to ")


def sources(files: list[str]) -> dict[tuple[str, str], dict]:
    out = {}
    for f in files:
        for doc in yaml.safe_load_all((ROOT / f).read_text()):
            out[(doc["kind"].lower(), doc["metadata"]["name"])] = doc
    return out


def test_push_to_the_registry_is_read_back_by_skopeo_and_layer_by_layer(registry, tmp_path: Path) -> None:
    ref = registry.ref("iib-tekton/tasks:0.1")
    pushed = push(
        ref, TASK_FILES, "--annotate", "org.opencontainers.image.version=0.1", registry_host=registry.host
    )
    digest = pushed.rpartition("@")[2]
    assert pushed == f"{registry.host}/iib-tekton/tasks@{digest}"

    raw = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{ref}"))
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert raw["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert raw["annotations"] == {"org.opencontainers.image.version": "0.1"}
    assert 0 < len(raw["layers"]) <= MAX_OBJECTS

    copy = tmp_path / "copy"
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{copy}")
    expected = sources(TASK_FILES)
    seen = set()
    for layer in raw["layers"]:
        assert layer["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"
        notes = layer["annotations"]
        assert notes["dev.tekton.image.apiVersion"] == "v1" and notes["dev.tekton.image.kind"] == "task"
        blob = (copy / layer["digest"].removeprefix("sha256:")).read_bytes()
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
            members = tar.getmembers()
            assert [(m.name, m.mode, m.isfile()) for m in members] == [
                (notes["dev.tekton.image.name"], 0o600, True)
            ]
            content = tar.extractfile(members[0]).read()
        assert json.loads(content) == expected[("task", notes["dev.tekton.image.name"])]
        seen.add(notes["dev.tekton.image.name"])
    assert seen == {name for _, name in expected}
    config = json.loads((copy / raw["config"]["digest"].removeprefix("sha256:")).read_bytes())
    assert config["created"] == "1970-01-01T00:00:00Z" and len(config["rootfs"]["diff_ids"]) == len(seen)

    listed = step("list", ref, env={"PATH": "/usr/bin:/bin", "IIB_INSECURE_REGISTRIES": registry.host})
    assert listed.returncode == 0, listed.stderr
    order = [layer["annotations"]["dev.tekton.image.name"] for layer in raw["layers"]]
    assert listed.stdout.splitlines() == [f"task.tekton.dev/{name}" for name in order]


def test_the_same_files_give_the_same_digest(tmp_path: Path) -> None:
    first = push(f"oci:{tmp_path / 'a'}:0.1", TASK_FILES)
    second = push(f"oci:{tmp_path / 'b'}:0.1", list(reversed(TASK_FILES)))
    assert first.rpartition("@")[2] == second.rpartition("@")[2]
    later = push(f"oci:{tmp_path / 'c'}:0.1", TASK_FILES, "--ctime", "2024-05-01T00:00:00Z")
    assert later.rpartition("@")[2] != first.rpartition("@")[2]
    raw = json.loads(skopeo("inspect", "--raw", f"oci:{tmp_path / 'a'}:0.1"))
    assert raw["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


def test_pipelines_run_their_tasks_from_the_tasks_bundle(tmp_path: Path, schemas: Path) -> None:
    tasks_ref = push(f"oci:{tmp_path / 'tasks'}:0.1", TASK_FILES)
    ref = f"oci:{tmp_path / 'pipelines'}:0.1"
    push(ref, PIPELINE_FILES, "--task-bundle", tasks_ref)
    listed = step("list", ref, "pipeline", "iib-add", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    pipeline = json.loads(listed.stdout)
    for task in pipeline["spec"]["tasks"] + pipeline["spec"]["finally"]:
        params = {p["name"]: p["value"] for p in task["taskRef"]["params"]}
        assert task["taskRef"]["resolver"] == "bundles"
        assert params["bundle"] == tasks_ref and params["kind"] == "task"
        assert params["name"] in {"iib-add", "iib-report"}
    resource = Resource(Path("iib-add.yaml"), 0, pipeline)
    assert schemas_problems(resource, schemas) == [] and checks.check_resource(resource) == []


def schemas_problems(resource: Resource, schema_dir: Path) -> list[str]:
    return schemas.validate(resource, schema_dir)


def test_list_filters_like_tkn(tmp_path: Path) -> None:
    ref = f"oci:{tmp_path / 'b'}:0.1"
    push(ref, ["tasks/iib-rm/0.1/iib-rm.yaml", "pipelines/iib-rm/0.1/iib-rm.yaml"])
    assert step("list", ref, "Pipeline").stdout == "pipeline.tekton.dev/iib-rm\n"
    assert step("list", ref, "tasks", "iib-rm").stdout == "task.tekton.dev/iib-rm\n"
    missing = step("list", ref, "task", "nope")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: no objects of kind task named nope found in img"
    bad = step("list", ref, "stepactions")
    assert bad.stderr.strip() == 'error: second argument stepactions is not a valid kind: ["task" "pipeline"]'
    as_yaml = yaml.safe_load(step("list", ref, "task", "iib-rm", "-o", "yaml").stdout)
    assert as_yaml == yaml.safe_load((ROOT / "tasks/iib-rm/0.1/iib-rm.yaml").read_text())


def test_bad_input_is_one_line_and_nothing_is_pushed(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    task = yaml.safe_load((ROOT / "tasks/iib-rm/0.1/iib-rm.yaml").read_text())
    docs = [{**task, "metadata": {"name": f"t{i}"}} for i in range(MAX_OBJECTS + 1)]
    many.write_text(yaml.safe_dump_all(docs))
    too_many = step("push", f"oci:{tmp_path / 'out'}:0.1", "-f", str(many))
    assert too_many.returncode == 1
    assert too_many.stderr.strip() == "error: a Tekton bundle holds at most 20 objects, not 21; split it"
    assert not (tmp_path / "out").exists()
    other = tmp_path / "cm.yaml"
    other.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    refused = step("push", f"oci:{tmp_path / 'out'}:0.1", "-f", str(other))
    assert refused.stderr.strip() == f"error: {other}: 'v1' is not a tekton.dev apiVersion"
    assert "Traceback" not in refused.stderr and not (tmp_path / "out").exists()
