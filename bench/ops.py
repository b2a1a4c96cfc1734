"""Benchmarks of the catalog operations on the generated 8,000-bundle catalog (``python -m bench ops``).

Each measurement runs in a fresh Python process: it loads the catalog (timed apart), then times
the operation itself (computing the new packages and validating them) and writing the changed
package, and reports wall times and peak RSS. The figure that matters is ``after_load_s``: what
an operation costs beyond loading the catalog, which must stay proportional to the packages it
touches (under 1 s for one bundle or one package).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.gen_catalog import generated_catalog

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, tempfile, time
from dataclasses import replace
from pathlib import Path
from catalog.load import load_fs
from catalog.write import write_packages
from catalog.ops import (BundleToAdd, add_bundles, deprecate_bundles, merge_catalogs, package_config,
                         remove_packages)
from catalog.ops.graph import GraphFields, bundle_version, channel_head
from catalog.declcfg import Property

root, op = Path(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
cfg = load_fs(root)
t1 = time.perf_counter()
# The package with the most bundles: the worst case for per-package work.
sizes = {}
for b in cfg.bundles:
    sizes[b.package] = sizes.get(b.package, 0) + 1
pkg = max(sorted(sizes), key=lambda p: sizes[p])
part = package_config(cfg, pkg)
stable = next(c for c in part.channels if c.name == "stable")
head_name = channel_head(stable)
head = next(b for b in part.bundles if b.name == head_name)

def new_bundle():
    v = bundle_version(head)
    version = f"{v.major}.{v.minor}.{v.patch + 1}"
    name = f"{pkg}.v{version}"
    props = [Property(p.type, {**p.value, "version": version}) if p.type == "olm.package" else p
             for p in head.properties]
    b = replace(head, name=name, image=head.image.split("@")[0] + "@sha256:" + "f" * 64, properties=props)
    chans = [c.name for c in part.channels if any(e.name == head_name for e in c.entries or [])]
    return BundleToAdd(bundle=b, channels=chans, default_channel=part.packages[0].default_channel,
                       graph=GraphFields(replaces=head_name))

t2 = time.perf_counter()
if op == "add-replaces":
    result = add_bundles(cfg, [new_bundle()], "replaces")
elif op == "add-semver":
    result = add_bundles(cfg, [new_bundle()], "semver")
elif op == "rm":
    result = remove_packages(cfg, [pkg])
elif op == "deprecate":
    middle = next(b for b in part.bundles if b.name == stable.entries[len(stable.entries) // 2].name)
    result = deprecate_bundles(cfg, [middle.image])
elif op == "merge":
    source = remove_packages(cfg, [pkg]).config
    t2 = time.perf_counter()
    result = merge_catalogs(source, cfg, "replaces")
else:
    raise SystemExit(f"unknown op {op}")
t3 = time.perf_counter()
if op.startswith("add-"):  # the work really happened: the new bundle now heads its channels
    added = new_bundle().bundle.name
    assert any(b.name == added for b in result.config.bundles), "bundle not added"
    assert all(channel_head(c) == added for c in result.config.channels if c.package == pkg
               and any(e.name == added for e in c.entries or []))
with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / pkg).mkdir()
    write_packages(result.config, tmp, result.changed + result.removed)
t4 = time.perf_counter()
print(json.dumps({
    "package": pkg, "package_bundles": sizes[pkg], "catalog_bundles": len(cfg.bundles),
    "load_s": round(t1 - t0, 3), "op_validate_s": round(t3 - t2, 3), "write_s": round(t4 - t3, 3),
    "after_load_s": round(t4 - t2, 3), "changed": result.changed, "removed": result.removed,
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
"""

OPS = ["add-replaces", "add-semver", "rm", "deprecate", "merge"]


def _measure(root: Path, op: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), op],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        return {"name": f"ops.{op}", "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return {"name": f"ops.{op}", **json.loads(proc.stdout)}


def run() -> list[dict]:
    """One row per operation on the generated catalog."""
    root = generated_catalog()
    return [_measure(root, op) for op in OPS]
