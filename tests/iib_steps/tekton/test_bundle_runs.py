"""`make bundle`'s output runs: the iib-add Pipeline read from the Pipelines bundle runs its Tasks
through the bundles resolver (from the Tasks bundle, pinned by digest) on the embedded runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from iib_steps.tekton import bundle as tb
from tests.conftest import ROOT

STEP_DIR = Path(sys.executable).parent


def test_the_pipelines_bundle_runs_iib_add_with_tasks_from_the_tasks_bundle(
    tmp_path: Path, testdata: Path
) -> None:
    from iib_steps.images.build import build_bundle_image
    from iib_steps.images.extract import extract_index_catalog
    from iib_steps.tekton.runner import run_pipeline

    base = f"oci:{tmp_path / 'bundles'}"
    done = subprocess.run(
        ["bash", "scripts/bundle.sh", base],
        cwd=ROOT, capture_output=True, text=True, check=False, env={"PATH": f"{STEP_DIR}:/usr/bin:/bin",
                                                                     "IIB_STEP": str(STEP_DIR / "iib-step")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [pipeline] = tb.select(tb.read(f"{base}/pipelines:0.1"), "pipeline", "iib-add")
    images = tmp_path / "images"
    bundle = f"oci:{images}/dbaas-operator-bundle:v0.5.0"
    build_bundle_image(testdata / "bundles" / "dbaas-operator-0.5.0", [bundle], fmt="oci")
    config = tmp_path / "steps-config"
    config.mkdir()
    (config / "config.yaml").write_text(f'registry: "oci:{images}"\noci_layout_root: "{images}"\n')

    result = run_pipeline(
        pipeline.body,
        params={"bundles": [bundle], "binary-image": "scratch", "add-arches": ["amd64"], "request-id": "9"},
        workspaces={"steps-config": config},
        task_dirs=[tmp_path / "no-tasks-here"],
        runs_dir=tmp_path / "runs",
    )
    assert result.succeeded, result.message
    catalog = extract_index_catalog(result.results["IMAGE_URL"], tmp_path / "catalog")
    assert sorted(p.name for p in catalog.iterdir()) == ["dbaas-operator"]
