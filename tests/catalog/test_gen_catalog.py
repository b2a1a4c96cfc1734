"""The benchmark catalog generator: deterministic, and a catalog opm would accept."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench.gen_catalog import generate
from catalog.load import load_fs
from catalog.validate import validate_config
from catalog.write import to_json_bytes


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_and_the_catalog_validates(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=5, packages=4, bundles=60)
    b = generate(tmp_path / "b", seed=5, packages=4, bundles=60)
    c = generate(tmp_path / "c", seed=6, packages=4, bundles=60)
    assert _digest(a) == _digest(b) != _digest(c)
    cfg = load_fs(a)
    assert len(cfg.packages) == 4 and len(cfg.bundles) >= 60
    validate_config(cfg)
    # Written in opm's format: load + write gives the files back.
    assert to_json_bytes(cfg) == b"".join(p.read_bytes() for p in sorted(a.glob("*/catalog.json")))
    kinds = {p.type for bundle in cfg.bundles for p in bundle.properties}
    assert {"olm.gvk", "olm.package", "olm.bundle.object"} <= kinds
