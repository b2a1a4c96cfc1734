"""Rendering bundle directories byte-for-byte as opm v1.73.0 (testdata/render-golden*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import declcfg as d
from catalog.errors import CatalogError
from catalog.load import load_bytes
from catalog.render import (
    bundle_annotations,
    expand_image_ref_template,
    render,
    render_bundle_dir,
)
from catalog.write import to_json_bytes
from tests.conftest import TESTDATA

TEMPLATE = "quay.io/example/{{.Package}}-bundle:v{{.Version}}"
MIGRATION = "bundle-object-to-csv-metadata"


def _goldens(folder: str) -> list[str]:
    root = TESTDATA / folder
    return sorted(p.stem for p in root.glob("*.json")) if root.is_dir() else ["<testdata absent>"]


def _bytes(bundle: d.Bundle) -> bytes:
    return to_json_bytes(d.DeclarativeConfig(bundles=[bundle]))


@pytest.mark.parametrize("name", _goldens("render-golden"))
def test_bundle_dir_renders_to_opms_exact_bytes(testdata: Path, name: str) -> None:
    golden = testdata / "render-golden" / f"{name}.json"
    assert _bytes(render_bundle_dir(testdata / "bundles" / name)) == golden.read_bytes()


@pytest.mark.parametrize("name", _goldens("render-golden-csv-metadata"))
def test_bundle_dir_with_template_and_csv_metadata_migration(testdata: Path, name: str) -> None:
    golden = testdata / "render-golden-csv-metadata" / f"{name}.json"
    bundle = render_bundle_dir(
        testdata / "bundles" / name, image_ref_template=TEMPLATE, migrate_level=MIGRATION
    )
    assert _bytes(bundle) == golden.read_bytes()


def test_every_bundle_has_a_golden(testdata: Path) -> None:
    bundles = sorted(p.name for p in (testdata / "bundles").iterdir())
    assert bundles == _goldens("render-golden") == _goldens("render-golden-csv-metadata")


def test_rendered_bundle_reloads_to_the_same_bytes_through_the_loader(testdata: Path) -> None:
    """What render writes, load + write gives back unchanged (the catalog form is canonical)."""
    bundle = render_bundle_dir(testdata / "bundles" / "dbaas-operator-0.5.0")
    first = _bytes(bundle)
    reloaded = to_json_bytes(load_bytes(first))
    # The loader sorts keys and drops the HTML escapes inside raw values, as opm's Meta re-encoding does.
    assert reloaded == first.replace(b"\\u003e", b">")


def test_migration_needs_an_image(testdata: Path) -> None:
    bundle = render_bundle_dir(testdata / "bundles" / "kube-green-0.7.1", migrate_level=MIGRATION)
    types = [p.type for p in bundle.properties]
    assert "olm.csv.metadata" not in types and types.count("olm.bundle.object") == 5


def test_render_of_a_catalog_dir_canonicalizes_and_migrates(testdata: Path) -> None:
    cfg = render([testdata / "catalogs" / "community-v4.16-sample"], migrate_level=MIGRATION)
    assert cfg.bundles
    for b in cfg.bundles:
        types = [p.type for p in b.properties]
        assert "olm.bundle.object" not in types
        assert types[-1] == "olm.csv.metadata"
        assert [r.image for r in b.related_images] == sorted(r.image for r in b.related_images)


def test_render_several_references_merges_them_in_order(testdata: Path) -> None:
    cfg = render([testdata / "bundles" / "kube-green-0.3.0", testdata / "bundles" / "kube-green-0.3.1"])
    assert [b.name for b in cfg.bundles] == ["kube-green.v0.3.0", "kube-green.v0.3.1"]


def test_bundle_annotations_for_graph_modes(testdata: Path) -> None:
    ann = bundle_annotations(testdata / "bundles" / "kube-green-0.7.1")
    assert ann.package == "kube-green"
    assert (ann.channels, ann.default_channel) == (("alpha",), "")
    assert ann.labels["operators.operatorframework.io.bundle.package.v1"] == "kube-green"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{.Package}}/{{.Name}}/{{.Version}}", "pkg/pkg.v1.0.0/1.0.0"),
        ("quay.io/x/{{ .Package }}:v{{.Version}}", "quay.io/x/pkg:v1.0.0"),
        ("a {{- .Package -}} b", "apkgb"),
        ("plain", "plain"),
    ],
)
def test_image_ref_template(template: str, expected: str) -> None:
    assert expand_image_ref_template(template, "pkg", "pkg.v1.0.0", "1.0.0") == expected


def test_image_ref_template_unknown_field_is_one_line_error() -> None:
    with pytest.raises(CatalogError, match="Foo"):
        expand_image_ref_template("{{.Foo}}", "p", "n", "v")


def _bundle(tmp_path: Path, manifests: dict[str, str], metadata: dict[str, str]) -> Path:
    for rel, text in {**{f"manifests/{k}": v for k, v in manifests.items()}, **metadata}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "metadata").mkdir(exist_ok=True)
    return tmp_path


CSV = """apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata:
  name: foo.v0.1.0
  annotations:
    createdAt: 2021-10-13
spec:
  version: 0.1.0
  customresourcedefinitions:
    owned:
    - name: foos.example.com
      version: v1
      kind: Foo
  install:
    strategy: deployment
    spec:
      deployments:
      - name: op
        spec:
          template:
            spec:
              containers:
              - image: quay.io/foo/op:1
              initContainers:
              - image: quay.io/foo/init:1
"""
ANNOTATIONS = {
    "metadata/annotations.yaml": "annotations:\n  operators.operatorframework.io.bundle.package.v1: foo\n"
    "  operators.operatorframework.io.bundle.channels.v1: alpha,beta\n"
}


def test_bundle_dir_errors_carry_opms_text(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"^no bundle objects found$"):
        render_bundle_dir(_bundle(tmp_path / "a", {"x.yaml": "just: text\n"}, ANNOTATIONS))
    with pytest.raises(CatalogError, match=r"^no csv in bundle$"):
        render_bundle_dir(_bundle(tmp_path / "b", {"x.yaml": "kind: ConfigMap\n"}, ANNOTATIONS))
    with pytest.raises(CatalogError, match=r"^Could not find annotations file$"):
        render_bundle_dir(_bundle(tmp_path / "c", {"csv.yaml": CSV}, {}))
    with pytest.raises(CatalogError, match=r"couldn't find \{example.com v1 Foo foos\} in bundle"):
        render_bundle_dir(_bundle(tmp_path / "d", {"csv.yaml": CSV}, ANNOTATIONS))


def test_small_bundle_properties_objects_and_related_images(tmp_path: Path) -> None:
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: foos.example.com\n"
        "spec:\n  group: example.com\n  names:\n    kind: Foo\n    plural: foos\n  versions:\n  - name: v1\n"
        "  - name: v2\n"
    )
    root = _bundle(tmp_path, {"a-crd.yaml": crd, "b-csv.yaml": CSV, ".hidden": "x"}, ANNOTATIONS)
    bundle = render_bundle_dir(root, image_ref_template="reg/{{.Package}}:{{.Version}}")
    assert (bundle.name, bundle.package, bundle.image) == ("foo.v0.1.0", "foo", "reg/foo:0.1.0")
    types = [p.type for p in bundle.properties]
    assert types == ["olm.gvk", "olm.gvk", "olm.package", "olm.bundle.object", "olm.bundle.object"]
    assert bundle.properties[2].value == {"packageName": "foo", "version": "0.1.0"}
    assert [r.image for r in bundle.related_images] == [
        "quay.io/foo/init:1",
        "quay.io/foo/op:1",
        "reg/foo:0.1.0",
    ]
    # createdAt stays the string it was written as (go-yaml v2 keeps timestamps as strings).
    import base64
    import json

    payloads = [json.loads(base64.b64decode(p.value["data"])) for p in bundle.properties[3:]]
    csv = next(o for o in payloads if o["kind"] == "ClusterServiceVersion")
    assert csv["metadata"]["annotations"]["createdAt"] == "2021-10-13"


@pytest.fixture(scope="module")
def v416_bundles(testdata: Path) -> list[d.Bundle]:
    from catalog.load import load_fs

    return load_fs(testdata / "catalogs" / "community-v4.16-sample").bundles


def test_rendered_bundle_dirs_match_the_real_catalog_built_from_them(testdata: Path, v416_bundles) -> None:
    """community-operators-prod's v4.16 catalog was rendered from these bundle directories."""
    from catalog.jsonutil import compact

    matched = 0
    for bundle in v416_bundles:
        source = testdata / "bundles" / bundle.name.replace(".v", "-", 1)
        if not source.is_dir():
            continue
        ours = load_bytes(_bytes(render_bundle_dir(source))).bundles[0]
        assert [(p.type, compact(p.value)) for p in ours.properties] == [
            (p.type, compact(p.value)) for p in bundle.properties
        ], bundle.name
        matched += 1
    assert matched >= 25


def test_migrating_a_loaded_catalog_gives_the_csv_metadata_opm_renders(testdata: Path, v416_bundles) -> None:
    from catalog.jsonutil import compact
    from catalog.migrations import migrate

    golden = {}
    for path in (testdata / "render-golden-csv-metadata").glob("*.json"):
        b = load_bytes(path.read_bytes()).bundles[0]
        golden[b.name] = next(p.value for p in b.properties if p.type == "olm.csv.metadata")
    bundles = [b for b in v416_bundles if b.name in golden]
    assert len(bundles) >= 25
    migrate(d.DeclarativeConfig(bundles=bundles), MIGRATION)
    for b in bundles:
        assert [p.type for p in b.properties][-1] == "olm.csv.metadata"
        assert "olm.bundle.object" not in [p.type for p in b.properties]
        assert compact(b.properties[-1].value) == compact(golden[b.name]), b.name


def test_an_unpacked_bundle_image_records_its_pull_spec(testdata: Path) -> None:
    ref = "quay.io/example/kube-green-bundle@sha256:" + "0" * 64
    bundle = render_bundle_dir(testdata / "bundles" / "kube-green-0.7.1", image=ref)
    assert bundle.image == ref
    assert d.RelatedImage("", ref) in bundle.related_images
    templated = render_bundle_dir(testdata / "bundles" / "kube-green-0.7.1", image_ref_template=ref)
    assert _bytes(bundle) == _bytes(templated)


def test_render_of_a_sqlite_index_db_is_what_opm_migrate_wrote(testdata: Path, tmp_path: Path) -> None:
    from catalog.write import write_fs

    cfg = render([testdata / "sqlite" / "bundles.db"])
    written = write_fs(cfg, tmp_path, "json")
    expected = testdata / "sqlite" / "migrated-expected"
    assert sorted(p.relative_to(tmp_path) for p in written) == sorted(
        p.relative_to(expected) for p in expected.rglob("*.json")
    )
    for path in written:
        assert path.read_bytes() == (expected / path.relative_to(tmp_path)).read_bytes()


def test_render_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("schema: olm.package\nname: a\n")
    with pytest.raises(CatalogError, match="has unsupported file type"):
        render([tmp_path / "x.yaml"])


def test_a_csv_with_a_malformed_install_strategy_is_a_one_line_error(testdata: Path, tmp_path: Path) -> None:
    import shutil

    import yaml

    root = tmp_path / "b"
    shutil.copytree(testdata / "bundles" / "kube-green-0.7.1", root)
    csv_path = next((root / "manifests").glob("*clusterserviceversion*"))
    csv = yaml.safe_load(csv_path.read_text())
    csv["spec"]["install"]["spec"]["deployments"][0]["spec"]["template"] = "oops"
    csv_path.write_text(yaml.safe_dump(csv))
    with pytest.raises(
        CatalogError, match=r'^get related images for bundle "kube-green.v0.7.1": json: cannot'
    ):
        render_bundle_dir(root)
