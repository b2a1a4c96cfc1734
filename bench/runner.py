"""Overhead of the embedded Tekton runner: ``pipelines/iib-add`` run by it (host runtime) against
its add step's exact command (argv, env and working directory, as the runner recorded them) run
alone, on the same inputs: one example bundle into a new index, OCI layouts on disk, no registry.
Each is run ``ROUNDS`` times, alternately; the rows give the medians and the difference. The
container runtime is measured too when a step image layout is available (``IIB_TEST_STEP_IMAGE``,
else ``.build/images/iib-step``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IIB_STEP = str(Path(sys.executable).parent / "iib-step")
BUNDLE = ROOT / "examples" / "hello-operator" / "0.1.0"
ROUNDS = 5


def _step_image() -> str | None:
    given = os.environ.get("IIB_TEST_STEP_IMAGE")
    if given:
        return given if given.startswith("oci:") else f"oci:{given}"
    layout = ROOT / ".build" / "images" / "iib-step"
    return f"oci:{layout}" if (layout / "index.json").is_file() else None


def run() -> list[dict]:
    pipeline = ROOT / "pipelines" / "iib-add" / "0.1" / "iib-add.yaml"
    if not pipeline.is_file():
        return [{"name": "runner overhead", "skipped": "pipelines/iib-add is not in this checkout"}]
    from iib_steps.images.build import build_bundle_image
    from iib_steps.tekton.runner import run_pipeline

    tmp = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    try:
        images = tmp / "images"
        bundle = f"oci:{images}/hello-operator-bundle:v0.1.0"
        build_bundle_image(BUNDLE, [bundle], fmt="oci")
        config = tmp / "steps-config"
        config.mkdir()
        (config / "config.yaml").write_text(
            f'registry: "oci:{images}"\noci_layout_root: "{images}"\n'
            "binary_image_config:\n  prod:\n    v4.5: scratch\n"
        )
        counter = iter(range(1, 10_000))
        own: list[float] = []  # the runner's own time in each run: wall time less the steps' processes

        def piped(runtime: str, image_map: dict[str, str] | None = None) -> tuple[float, Path]:
            started = time.perf_counter()
            result = run_pipeline(
                "iib-add",
                params={
                    "bundles": [bundle],
                    "binary-image": "scratch",
                    "add-arches": ["amd64"],
                    "request-id": str(next(counter)),
                },
                workspaces={"steps-config": config},
                runtime=runtime,
                image_map=image_map,
                runs_dir=tmp / "runs",
            )
            took = time.perf_counter() - started
            if not result.succeeded:
                raise RuntimeError(f"iib-add failed on the {runtime} runtime: {result.message}")
            steps = result.folder / f"{result.name}-add" / ".tekton" / "steps"
            own.append(took - sum(float(f.read_text()) for f in steps.glob("*/seconds")))
            return took, steps / "step-build"

        def alone(recorded: Path) -> float:
            """The add step's exact command (argv, env, workdir) run again by itself, as a new request."""
            command = json.loads((recorded / "command.json").read_text())
            env = {**os.environ, **command["env"], "PATH": f"{Path(IIB_STEP).parent}:{os.environ['PATH']}"}
            env["IIB_REQUEST_ID"] = str(next(counter))
            started = time.perf_counter()
            subprocess.run(
                command["argv"], env=env, cwd=command["workingDir"], check=True, capture_output=True
            )
            return time.perf_counter() - started

        _, recorded = piped("host")  # warm caches; record the step's command
        plain, host = [], []
        for _ in range(ROUNDS):
            plain.append(alone(recorded))
            host.append(piped("host")[0])
        rows = [
            {"name": "iib-step add alone", "median_s": round(statistics.median(plain), 3)},
            {
                "name": "iib-add Pipeline, host runtime",
                "median_s": round(statistics.median(host), 3),
                "overhead_s": round(statistics.median(host) - statistics.median(plain), 3),
                "runner_own_s": round(statistics.median(own[-ROUNDS:]), 3),
                "goal_s": 0.5,
            },
        ]
        image = _step_image()
        rows.extend(_container_start(image, tmp))
        if image is None or shutil.which("runc") is None:
            rows.append(
                {
                    "name": "iib-add Pipeline, container runtime",
                    "skipped": "no runc, or no step image (IIB_TEST_STEP_IMAGE, .build/images/iib-step)",
                }
            )
        else:
            mapping = {"quay.io/iib-tekton/iib-step": image}
            try:
                piped("container", mapping)  # unpack the image once (cached)
                box = [piped("container", mapping)[0] for _ in range(ROUNDS)]
            except RuntimeError as exc:
                rows.append({"name": "iib-add Pipeline, container runtime", "skipped": str(exc)})
            else:
                rows.append(
                    {
                        "name": "iib-add Pipeline, container runtime",
                        "median_s": round(statistics.median(box), 3),
                        "overhead_s": round(statistics.median(box) - statistics.median(plain), 3),
                        "runner_own_s": round(statistics.median(own[-ROUNDS:]), 3),
                        "goal_s": 1.5,
                    }
                )
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _container_start(image: str | None, tmp: Path) -> list[dict]:
    """What the container runtime adds per step: a one-step Task running ``true`` in the step image,
    against the same Task on the host (the image unpacked once beforehand, as it is cached)."""
    if image is None or shutil.which("runc") is None:
        return []
    from iib_steps.tekton.runner import run_task

    task = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {"name": "true"},
        "spec": {
            "steps": [{"name": "true", "image": "quay.io/iib-tekton/iib-step:0.1.0", "command": ["true"]}]
        },
    }
    mapping = {"quay.io/iib-tekton/iib-step": image}

    def once(runtime: str) -> float:
        started = time.perf_counter()
        result = run_task(task, runtime=runtime, image_map=mapping, runs_dir=tmp / "runs-true")
        if not result.succeeded:
            raise RuntimeError(f"true failed on the {runtime} runtime: {result.message}")
        return time.perf_counter() - started

    once("container")
    host = statistics.median(once("host") for _ in range(ROUNDS))
    box = statistics.median(once("container") for _ in range(ROUNDS))
    return [
        {
            "name": "one-step Task (true), container vs host",
            "host_s": round(host, 3),
            "container_s": round(box, 3),
            "container_adds_s": round(box - host, 3),
        }
    ]
