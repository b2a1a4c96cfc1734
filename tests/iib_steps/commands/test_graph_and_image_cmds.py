"""``iib-step catalog graph`` and ``iib-step image build-bundle | extract-catalog | labels`` end to end
on the example operators (OCI layouts on disk)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _step(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iib_steps.cli", *map(str, args)], capture_output=True, text=True
    )


def test_build_bundle_then_read_labels(tmp_path: Path) -> None:
    ref = f"oci:{tmp_path}/hello-bundle:v0.1.0"
    built = _step("image", "build-bundle", EXAMPLES / "hello-operator" / "0.1.0", ref, "--label", "a=b")
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith(f"oci:{tmp_path}/hello-bundle@sha256:")
    labels = json.loads(_step("image", "labels", ref).stdout)
    assert labels["operators.operatorframework.io.bundle.package.v1"] == "hello-operator"
    assert labels["a"] == "b"


def test_build_bundle_bad_input_is_one_line(tmp_path: Path) -> None:
    done = _step("image", "build-bundle", tmp_path / "nope", f"oci:{tmp_path}/x:1")
    assert done.returncode == 1
    assert done.stderr == f"error: the bundle directory {tmp_path / 'nope'} does not exist\n"
    done = _step("image", "build-bundle", EXAMPLES / "hello-operator" / "0.1.0", "x", "--label", "nokey")
    assert done.stderr == "error: --label takes KEY=VALUE, not 'nokey'\n"


def test_graph_of_a_rendered_example(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    bundles = [f"--bundle={EXAMPLES / 'hello-operator' / v}" for v in ("0.1.0", "0.2.0", "0.3.0")]
    added = _step("catalog", "add", catalog, *bundles, "--mode", "replaces")
    assert added.returncode == 0, added.stderr
    mermaid = _step("catalog", "graph", catalog, "hello-operator")
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("graph LR\n")
    assert '-- "skipRange(>=0.1.0 <0.3.0)" --> hello-operator-alpha-hello-operator.v0.3.0' in mermaid.stdout
    svg = _step("catalog", "graph", catalog, "hello-operator", "-o", "svg")
    assert svg.stdout.startswith("<svg ")
    missing = _step("catalog", "graph", catalog, "nope")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: the catalog ") and missing.stderr.count("\n") == 1
