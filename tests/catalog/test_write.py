"""Writing catalogs in opm's order and byte format (alpha/declcfg/write.go)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from catalog import declcfg as d
from catalog.errors import CatalogError
from catalog.load import load_bytes, load_fs
from catalog.write import to_json_bytes, to_yaml_text, write_fs, write_json, write_packages, write_yaml

CATALOGS = ["community-v4.20", "community-v4.16-sample"]


@pytest.fixture(scope="module", params=CATALOGS)
def real_catalog(request, testdata: Path) -> tuple[Path, d.DeclarativeConfig]:
    root = testdata / "catalogs" / request.param
    return root, load_fs(root)


def test_yaml_output_reproduces_every_real_catalog_file_byte_for_byte(real_catalog) -> None:
    """The community catalogs were written by opm: our YAML writer must give the same bytes."""
    root, _ = real_catalog
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert files
    for path in files:
        cfg = load_bytes(path.read_bytes())
        assert to_yaml_text(cfg) == path.read_text(), path


def test_json_write_is_idempotent_and_yaml_loads_back_to_the_same_blobs(real_catalog) -> None:
    _, cfg = real_catalog
    first = to_json_bytes(cfg)
    assert to_json_bytes(load_bytes(first)) == first
    assert to_json_bytes(load_bytes(to_yaml_text(cfg).encode())) == first


def test_json_layout_follows_go_struct_order_and_indent() -> None:
    cfg = d.DeclarativeConfig(
        packages=[d.Package(name="foo", default_channel="stable")],
        channels=[
            d.Channel(name="stable", package="foo", entries=[d.ChannelEntry("foo.v1", skips=["a"])]),
            d.Channel(name="alpha", package="foo"),
        ],
        bundles=[
            d.Bundle(
                name="foo.v1",
                package="foo",
                properties=[d.Property("olm.package", {"packageName": "foo", "version": "1.0.0"})],
                related_images=[d.RelatedImage("", "quay.io/x/y@sha256:00")],
            )
        ],
    )
    assert to_json_bytes(cfg).decode() == (
        '{\n    "schema": "olm.package",\n    "name": "foo",\n    "defaultChannel": "stable"\n}\n'
        '{\n    "schema": "olm.channel",\n    "name": "alpha",\n    "package": "foo",\n'
        '    "entries": null\n}\n'
        '{\n    "schema": "olm.channel",\n    "name": "stable",\n    "package": "foo",\n    "entries": [\n'
        '        {\n            "name": "foo.v1",\n            "skips": [\n                "a"\n'
        "            ]\n        }\n    ]\n}\n"
        '{\n    "schema": "olm.bundle",\n    "name": "foo.v1",\n    "package": "foo",\n    "image": "",\n'
        '    "properties": [\n        {\n            "type": "olm.package",\n            "value": {\n'
        '                "packageName": "foo",\n                "version": "1.0.0"\n            }\n'
        '        }\n    ],\n    "relatedImages": [\n        {\n            "name": "",\n'
        '            "image": "quay.io/x/y@sha256:00"\n        }\n    ]\n}\n'
    )


def test_order_packages_bytewise_then_others_by_schema_then_packageless_others_last() -> None:
    cfg = d.DeclarativeConfig(
        others=[
            d.Meta("z.custom", "", "", {"schema": "z.custom"}),
            d.Meta("b.custom", "bar", "", {"package": "bar", "schema": "b.custom"}),
            d.Meta("a.custom", "bar", "", {"package": "bar", "schema": "a.custom"}),
        ],
        deprecations=[d.Deprecation(package="Bar", entries=[])],
        bundles=[d.Bundle(name="b2", package="bar"), d.Bundle(name="b1", package="bar")],
    )
    out = to_json_bytes(cfg)
    cfg2 = load_bytes(out)
    order = [(o.schema, o.package) for o in cfg2.others]
    assert order == [("a.custom", "bar"), ("b.custom", "bar"), ("z.custom", "")]
    # "Bar" sorts before "bar" bytewise; within bar, bundles by name.
    text = out.decode()
    assert text.index('"olm.deprecations"') < text.index('"b1"') < text.index('"b2"') < text.index("a.custom")


def test_go_escaping_rules_in_json_output() -> None:
    cfg = load_bytes(
        b'{"schema":"x.y","v":"<a&b>\xe2\x80\xa8","n":[1.0,1e-7,0.000001,100000000000000000000.0]}'
    )
    out = to_json_bytes(cfg).decode()
    assert '"v": "<a&b>\\u2028"' in out
    assert "1,\n        1e-7,\n        0.000001,\n        100000000000000000000\n" in out


def test_yaml_scalar_styles_follow_go_yaml_v2() -> None:
    cfg = load_bytes(
        b'{"schema":"x.y","a":"true","b":"1.0","c":"y","d":"[DEPRECATED] x","e":"l1\\nl2",'
        b'"f":"2021-10-13","g":"2021-10-13T10:00:00","h":"","i":"plain text"}'
    )
    assert to_yaml_text(cfg) == (
        '---\na: "true"\nb: "1.0"\nc: "y"\nd: \'[DEPRECATED] x\'\ne: |-\n  l1\n  l2\nf: "2021-10-13"\n'
        'g: 2021-10-13T10:00:00\nh: ""\ni: plain text\nschema: x.y\n'
    )


def test_write_json_and_yaml_accept_text_and_binary_streams() -> None:
    cfg = load_bytes(b'{"schema":"olm.package","name":"p"}')
    for writer in (write_json, write_yaml):
        text, binary = io.TextIOWrapper(io.BytesIO()), io.BytesIO()
        writer(cfg, binary)
        writer(cfg, text)
        text.flush()
        assert text.buffer.getvalue() == binary.getvalue() != b""


def test_write_fs_one_directory_per_package_and_root_others(tmp_path: Path) -> None:
    cfg = d.DeclarativeConfig(
        packages=[d.Package(name="b"), d.Package(name="a")],
        others=[d.Meta("x.y", "", "", {"schema": "x.y"})],
    )
    written = write_fs(cfg, tmp_path / "out", fmt="yaml")
    rel = [p.relative_to(tmp_path / "out").as_posix() for p in written]
    assert rel == ["a/catalog.yaml", "b/catalog.yaml", "catalog.yaml"]
    assert to_json_bytes(load_fs(tmp_path / "out")) == to_json_bytes(cfg)


def test_write_fs_refuses_a_package_name_that_is_not_a_path_element(tmp_path: Path) -> None:
    cfg = d.DeclarativeConfig(packages=[d.Package(name="../evil")])
    with pytest.raises(
        CatalogError, match=re.escape('invalid package name "../evil": must be a single local path element')
    ):
        write_fs(cfg, tmp_path)
    assert not any(tmp_path.iterdir())


def test_write_packages_rewrites_only_the_named_packages(tmp_path: Path) -> None:
    cfg = d.DeclarativeConfig(packages=[d.Package(name="a"), d.Package(name="b"), d.Package(name="c")])
    write_fs(cfg, tmp_path)
    before_b = (tmp_path / "b" / "catalog.json").stat().st_mtime_ns
    cfg.packages[0].description = "changed"
    cfg.packages = [p for p in cfg.packages if p.name != "c"]
    written = write_packages(cfg, tmp_path, ["a", "c"])
    assert written == [tmp_path / "a" / "catalog.json"]
    assert b'"description": "changed"' in (tmp_path / "a" / "catalog.json").read_bytes()
    assert (tmp_path / "b" / "catalog.json").stat().st_mtime_ns == before_b
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    ("entries", "json_text", "yaml_text"),
    [
        (b',"entries":null', b'"entries": null', "entries: null\n"),
        (b"", b'"entries": null', "entries: null\n"),
        (b',"entries":[]', b'"entries": []', "entries: []\n"),
    ],
)
def test_deprecation_entries_null_or_empty_as_opm_writes_them(
    entries: bytes, json_text: bytes, yaml_text: str
) -> None:
    """opm's ``Entries`` has no omitempty: a null or missing list is Go's nil slice, written as null."""
    cfg = load_bytes(b'{"schema":"olm.deprecations","package":"p"%s}\n' % entries)
    assert json_text in to_json_bytes(cfg)
    assert yaml_text in to_yaml_text(cfg)
    assert to_json_bytes(load_bytes(to_json_bytes(cfg))) == to_json_bytes(cfg)
