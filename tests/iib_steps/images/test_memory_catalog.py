"""Reading a catalog into shared memory gives the files extraction gives, announces every package
once its entries are all read, and refuses what it does not handle (so the caller takes the files
path); layers packed from memory are byte for byte the layers packed from the same files."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from iib_steps.images import extract_index_catalog
from iib_steps.images.inspect import ImageReader
from iib_steps.images.layers import LayerSpec, MemoryFile, write_layer, write_memory_layer
from iib_steps.images.memory_catalog import SharedArea, Unsupported, read_catalog
from tests.iib_steps.images.conftest import client_for
from tests.iib_steps.images.test_extract import LABEL, _image


def random_tree(root: Path, rng: random.Random) -> None:
    for p in range(5):
        pkg = root / f"pkg-{p}"
        pkg.mkdir(parents=True)
        for i in range(rng.randint(0, 4)):
            sub = pkg / ("d" * rng.randint(1, 3)) / f"nested-{i}" if rng.random() < 0.5 else pkg
            sub.mkdir(parents=True, exist_ok=True)
            name = ("long-" * 30 if rng.random() < 0.2 else "") + f"f{i}.json"
            f = sub / name
            f.write_bytes(os.urandom(rng.choice([0, 1, 511, 512, 513, 70_000])))
            if rng.random() < 0.3:
                f.chmod(0o755)
        if rng.random() < 0.3:
            (pkg / "empty-dir").mkdir()


def memory_entries(root: Path, members: list[str]) -> tuple[list[str], list[MemoryFile]]:
    dirs, files = ["configs"], []
    for member in members:
        for here, subdirs, names in os.walk(root / member):
            rel = Path(here).relative_to(root).as_posix()
            dirs.append(f"configs/{rel}")
            dirs.extend(f"configs/{rel}/{d}" for d in subdirs)
            for name in names:
                path = Path(here) / name
                files.append(
                    MemoryFile(f"configs/{rel}/{name}", path.read_bytes(), bool(path.stat().st_mode & 0o100))
                )
    return dirs, files


@pytest.mark.parametrize("seed", range(6))
def test_a_layer_from_memory_is_the_layer_from_files(tmp_path, seed):
    rng = random.Random(seed)
    root = tmp_path / "tree"
    random_tree(root, rng)
    members = sorted(rng.sample(sorted(p.name for p in root.iterdir()), 3))
    expected = write_layer(LayerSpec.directory(root, "/configs", include=members), tmp_path / "files")
    dirs, files = memory_entries(root, members)
    rng.shuffle(files)  # the order given does not matter
    got = write_memory_layer(dirs, files, tmp_path / "memory")
    assert (got.digest, got.diff_id, got.size) == (expected.digest, expected.diff_id, expected.size)


CATALOG_LAYERS = [
    [("bin/opm", b"binary"), ("configs/stale/catalog.json", b"stale")],
    [("configs/", None), ("configs/.wh..wh..opq", b""), ("configs/a/", None),
     ("configs/a/catalog.json", b"a"), ("configs/a/sub/more.yaml", b"more"),
     ("configs/b/catalog.json", b"b"), ("configs/c/", None), ("configs/c/x.json", b"c")],
]  # fmt: skip


def read(image: str, area: SharedArea, announced: list) -> dict:
    reader = ImageReader(image, client_for())
    catalog = read_catalog(reader, "/configs", area, lambda name, files: announced.append((name, files)))
    return catalog


def _refused(*args: object) -> int:
    raise PermissionError(1, "Operation not permitted")


@pytest.mark.parametrize("memfd", [True, False], ids=["memory file", "anonymous mapping"])
def test_the_files_are_those_extraction_gives_and_each_package_is_announced_once(
    tmp_path, monkeypatch, memfd
):
    if not memfd:  # where memory files are refused (a seccomp profile), the area is a plain mapping
        monkeypatch.setattr(os, "memfd_create", _refused)
    image = _image(tmp_path / "img", CATALOG_LAYERS, LABEL)
    area = SharedArea(1 << 20)
    assert (area._fd is not None) == memfd
    announced: list = []
    catalog = read(image, area, announced)
    assert [name for name, _ in announced] == ["a", "b", "c"]
    got = {f.rel: area.mm[f.offset : f.offset + f.size] for _, files in announced for f in files}
    out = extract_index_catalog(image, tmp_path / "out", client=client_for())
    expected = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert got == expected
    assert catalog.dirs["a"] == ["a"] and catalog.layers_read == 1  # stopped at the opaque directory
    area.close()


@pytest.mark.parametrize(
    ("layers", "why"),
    [
        ([[("configs/a/x.json", b"1"), ("configs/b/y.json", b"2"), ("configs/a/z.json", b"3")]],
         "not together"),
        ([[("configs/a/x.json", b"1")], [("configs/a/y.json", b"2")]], "not together"),
        ([[("configs/top.json", b"1")]], "top of the catalog"),
        ([[("configs/a/.indexignore", b"*.md")]], "indexignore"),
    ],
)  # fmt: skip
def test_what_the_memory_reader_does_not_handle_is_refused(tmp_path, layers, why):
    image = _image(tmp_path / "img", layers, LABEL)
    with pytest.raises(Unsupported, match=why):
        read(image, SharedArea(1 << 20), [])


def test_a_catalog_larger_than_the_area_is_refused(tmp_path):
    image = _image(tmp_path / "img", [[("configs/a/x.json", b"x" * 50_000)]], LABEL)
    with pytest.raises(Unsupported, match="larger than the memory"):
        read(image, SharedArea(8192), [])
