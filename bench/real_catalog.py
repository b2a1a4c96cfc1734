"""The real large catalog of ``../shared/perfdata`` (its README): the published catalogs of two public
operator repositories turned into one catalog of 809 packages, ~10,800 bundles and ~570 MB.

Every ``catalogs/<version>/<pkg>/catalog.yaml`` becomes the package ``<pkg>-v4NN`` (``-cert``
appended for certified-operators), renamed wherever a package name appears (``olm.package`` names,
the ``package`` of channels, bundles and deprecations, each bundle's ``olm.package`` property), and
written as opm writes JSON, one ``<package>/catalog.json`` each. Built once under ``.bench/`` and
reused; the data is only read for benchmarks, never copied into the project.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from catalog import declcfg as d
from catalog.load import load_file
from catalog.write import write_fs

ROOT = Path(__file__).resolve().parent.parent
PERFDATA = ROOT.parent / "shared" / "perfdata"
ARCHIVE = PERFDATA / "real-catalogs.tar.zst"
BENCH_DIR = ROOT / ".bench"
SOURCES = {"community-operators-prod": "", "certified-operators": "-cert"}


def _rename(cfg: d.DeclarativeConfig, new: str) -> None:
    for p in cfg.packages:
        p.name = new
    for c in cfg.channels:
        c.package = new
    for dep in cfg.deprecations:
        dep.package = new
    for b in cfg.bundles:
        b.package = new
        for prop in b.properties:
            if prop.type == d.PROP_PACKAGE and isinstance(prop.value, dict):
                prop.value = {**prop.value, "packageName": new}


def _assemble(unpacked: Path, out: Path) -> None:
    for repo, suffix in SOURCES.items():
        for version_dir in sorted((unpacked / repo / "catalogs").iterdir()):
            tag = version_dir.name.replace(".", "")  # v4.12 -> v412
            for pkg_dir in sorted(version_dir.iterdir()):
                source = pkg_dir / "catalog.yaml"
                if not source.is_file():
                    continue
                cfg = load_file(source)
                _rename(cfg, f"{pkg_dir.name}-{tag}{suffix}")
                write_fs(cfg, out)


def real_catalog() -> Path | None:
    """The assembled catalog's directory (built on first use), or None where ../shared is absent."""
    if not ARCHIVE.is_file():
        return None
    root = BENCH_DIR / "real-catalog"
    if root.is_dir():
        return root
    BENCH_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="real-catalogs-", dir=BENCH_DIR) as tmp:
        subprocess.run(["tar", "--zstd", "-xf", str(ARCHIVE), "-C", tmp], check=True)
        partial = Path(tmp) / "catalog"
        _assemble(Path(tmp), partial)
        shutil.move(str(partial), root)
    return root


if __name__ == "__main__":
    path = real_catalog()
    if path is None:
        sys.exit(f"{ARCHIVE} is absent")
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    print(f"{path}: {sum(1 for _ in path.iterdir())} packages, {size / 1e6:.0f} MB")
