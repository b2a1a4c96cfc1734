"""The update-fbc-catalog Pipeline as Konflux's release service starts it (its params only, as JSON
strings) on the embedded runner: its five results as Konflux reads them."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from pathlib import Path

from tests.iib_steps.steps.conftest import oci_world  # noqa: F401  (module fixture)

OTHERS = ["ecr-secret-operator", "kairos-operator", "libredb-studio-operator",
          "multicluster-global-hub-operator", "odf-node-recovery-operator", "openstack-lightspeed-operator",
          "shipwright-operator"]  # fmt: skip


def test_update_fbc_catalog_runs_as_a_drop_in(oci_world, tmp_path: Path) -> None:  # noqa: F811
    from iib_steps.tekton.runner import run_pipeline

    world = oci_world
    world.run("rm", "--request-id", "7201", "--from-index", world.index, "--operators", json.dumps(OTHERS))
    world.run("rm", "--request-id", "7202", "--from-index", world.index, "--operators", "kube-green")
    fragment, from_index = world.output("7201"), world.output("7202")
    config = tmp_path / "steps-config"
    config.mkdir()
    shutil.copy(world.settings, config / "config.yaml")

    result = run_pipeline(
        "update-fbc-catalog",
        params={
            "fromIndex": from_index,
            "fbcFragments": json.dumps([fragment]),
            "buildTags": '["v4.16-release-1"]',
            "addArches": "[]",
            "publishingCredentials": "catalog-publishing-secret",
            "taskGitRevision": "main",
        },
        workspaces={"steps-config": config},
        runs_dir=tmp_path / "runs",
    )
    assert result.succeeded, result.message
    assert set(result.results) == {"jsonBuildInfo", "buildState", "indexImageDigests", "iibLog", "exitCode"}
    info = json.loads(gzip.decompress(base64.b64decode(result.results["jsonBuildInfo"])))
    assert info["from_index"] == from_index and info["fbc_fragments"] == [fragment]
    assert info["state"] == "complete" and info["updated"].endswith("Z")
    assert json.loads(result.results["buildState"])["state"] == "complete"
    assert result.results["exitCode"] == "0"
    digests = result.results["indexImageDigests"].split(" ")
    assert digests and all(d.startswith("sha256:") for d in digests)
    assert "kube-green" in world.catalog_of(info["index_image"], tmp_path / "catalog").package_names()
    assert world.exists(world.output("v4.16-release-1"))
