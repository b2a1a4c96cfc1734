"""The demo's flow: bundle images from examples/, then add, a second add and rm through the REST API."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from iib_steps.demo.follow import follow
from iib_steps.demo.server import TOKEN, background_api
from iib_steps.errors import StepError

Say = Callable[[str], None]
FIRST = [
    ("hello-operator", "0.1.0"),
    ("hello-operator", "0.2.0"),
    ("tea-operator", "1.0.0"),
    ("tea-operator", "1.1.0"),
    ("lamp-operator", "0.1.0"),
    ("lamp-operator", "0.2.0"),
]
SECOND = [("hello-operator", "0.3.0"), ("tea-operator", "2.0.0")]
REMOVED = "lamp-operator"


@dataclass
class Client:
    """The REST API as a release pipeline calls it (bearer token)."""

    base: str
    headers: dict[str, str] = field(default_factory=lambda: {"Authorization": f"Bearer {TOKEN}"})

    def submit(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(
            f"{self.base}/api/v1/builds/{kind}", json=body, headers=self.headers, timeout=60
        )
        if answer.status_code != 201:
            raise StepError(
                f"POST /api/v1/builds/{kind} answered {answer.status_code}: {answer.text.strip()}"
            )
        return answer.json()

    def get(self, build_id: int) -> dict[str, Any]:
        answer = requests.get(f"{self.base}/api/v1/builds/{build_id}", timeout=60)
        answer.raise_for_status()
        return answer.json()


def build_bundles(examples: Path, images: Path, say: Say) -> dict[tuple[str, str], str]:
    """A bundle image (OCI layout) per example bundle directory: {(package, version): pull spec}."""
    from iib_steps.images.build import build_bundle_image

    out = {}
    for bundle in sorted(p.parent.parent for p in examples.glob("*/*/metadata/annotations.yaml")):
        package, version = bundle.parent.name, bundle.name
        ref = f"oci:{images}/{package}-bundle:v{version}"
        build_bundle_image(bundle, [ref], fmt="oci")
        out[package, version] = ref
        say(f"   {ref}")
    return out


def graphs(index_image: str, packages: list[str], workdir: Path) -> str:
    """The mermaid upgrade graph (as opm alpha render-graph) of ``packages`` in ``index_image``."""
    from catalog.graph import mermaid
    from catalog.load import load_fs
    from iib_steps.images.extract import extract_index_catalog

    catalog = extract_index_catalog(index_image, workdir)
    cfg = load_fs(catalog)
    return "\n".join(mermaid(cfg, package) for package in packages)


def _report(build: dict[str, Any], packages: list[str], workdir: Path, say: Say) -> None:
    say(f"   outcome      {build['state']}: {build.get('state_reason')}")
    if build["state"] != "complete":
        say(f"   log          {build.get('logs', {}).get('url', '(none)')}")
        return
    say(f"   index image  {build.get('index_image')}")
    say(f"   pinned       {build.get('index_image_resolved')}")
    if packages:
        say(f"   upgrade graph of {', '.join(packages)} (mermaid, as opm alpha render-graph):")
        for line in graphs(
            build["index_image_resolved"] or build["index_image"], packages, workdir
        ).splitlines():
            say(f"     {line}")


def submit_flow(
    client: Client, refs: dict[tuple[str, str], str], workdir: Path, say: Say
) -> list[dict[str, Any]]:
    """add, a second add on its result, rm on that; each followed to its end. Stops at a failure."""
    steps = [
        (
            "add",
            {"bundles": [refs[b] for b in FIRST], "binary_image": "scratch", "add_arches": ["amd64"]},
            sorted({p for p, _ in FIRST}),
        ),
        (
            "add",
            {"bundles": [refs[b] for b in SECOND], "binary_image": "scratch"},
            sorted({p for p, _ in SECOND}),
        ),
        ("rm", {"operators": [REMOVED], "binary_image": "scratch"}, []),
    ]
    results: list[dict[str, Any]] = []
    for number, (kind, body, packages) in enumerate(steps, 1):
        if results:
            body = {**body, "from_index": results[-1]["index_image_resolved"] or results[-1]["index_image"]}
        build_id = int(client.submit(kind, body)["id"])
        say(f"== request {build_id}: {kind} ({number} of {len(steps)}), POST /api/v1/builds/{kind}")
        build = follow(lambda build_id=build_id: client.get(build_id), f"request {build_id} ({kind})")
        results.append(build)
        _report(build, packages, workdir / f"catalog-{build_id}", say)
        if build["state"] != "complete":
            break
    return results


def run_demo(run_dir: Path, examples: Path, port: int, say: Say) -> int:
    """The whole flow; 0 when every request completed."""
    shutil.rmtree(run_dir, ignore_errors=True)
    images = run_dir / "images"
    images.mkdir(parents=True)
    say(f"== building bundle images from {examples}/ into OCI layouts under {images}")
    refs = build_bundles(examples, images, say)
    say(f"== starting the status API (SQLite, local executor) on port {port}; its log: {run_dir / 'api.log'}")
    with background_api(run_dir, port, say) as base:
        results = submit_flow(Client(base), refs, run_dir, say)
        _summary(run_dir, base, results, say)
    return 0 if results and all(b["state"] == "complete" for b in results) else 1


def _summary(run_dir: Path, base: str, results: list[dict[str, Any]], say: Say) -> None:
    say("== summary")
    for build in results:
        image = build.get("index_image") or ""
        say(f"   request {build['id']} {build['request_type']:<4} {build['state']:<9} {image}")
    say(f"   run folder     {run_dir}")
    say(f"   database       {run_dir / 'iib.db'} (SQLite)")
    say(f"   logs           {run_dir / 'logs'} (also GET /api/v1/builds/<id>/logs)")
    say(f"   images         {run_dir / 'images'} (OCI layouts: bundles and iib-build:<id>)")
    say(f"   Tekton runs    {run_dir / 'runs'}")
    say(f"   status API     {base}/api/v1/builds (stopped now; `make serve` starts it again on this run)")
    say("   status page    `make serve`, then http://127.0.0.1:8080/ (docs at /schema/swagger)")
