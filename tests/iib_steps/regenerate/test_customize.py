"""Bundle adjustment with operator-manifest on real bundle dirs from ../shared/testdata/bundles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from iib_steps.config import Customization, Settings
from iib_steps.errors import StepError
from iib_steps.regenerate.customize import adjust_bundle
from iib_steps.resolve import image_name

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
DIGEST_C = "sha256:" + "c" * 64


class TableInspector:
    """Image facts from a table: the digests and labels a registry would answer with."""

    def __init__(self, digests: dict[str, str], labels: dict[str, dict[str, str]] | None = None) -> None:
        self.digests = digests
        self.label_table = labels or {}
        self.resolved: list[str] = []

    def resolve(self, pull_spec: str) -> str:
        self.resolved.append(pull_spec)
        if pull_spec not in self.digests:
            raise StepError(f"cannot read the image {pull_spec}: manifest unknown")
        name = pull_spec.split("@")[0].rsplit(":", 1)[0] if "@" not in pull_spec else pull_spec.split("@")[0]
        return f"{name}@{self.digests[pull_spec]}"

    def labels(self, pull_spec: str) -> dict[str, str]:
        """Labels are keyed by the pull spec as written, or by the name alone (any tag or digest)."""
        return self.label_table.get(pull_spec) or self.label_table.get(image_name(pull_spec), {})


KUBE_GREEN = {
    "docker.io/kubegreen/kube-green:0.5.0": DIGEST_A,
    "gcr.io/kubebuilder/kube-rbac-proxy:v0.13.0": DIGEST_B,
}


@pytest.fixture
def bundle(testdata, tmp_path) -> Path:
    dest = tmp_path / "kube-green"
    shutil.copytree(testdata / "bundles" / "kube-green-0.5.0", dest)
    return dest


def csv_data(bundle: Path):
    return YAML().load((bundle / "manifests" / "kube-green.clusterserviceversion.yaml").read_text())


def test_default_order_pins_and_sets_related_images(bundle):
    inspector = TableInspector(KUBE_GREEN, {"gcr.io/kubebuilder/kube-rbac-proxy:v0.13.0": {}})
    result = adjust_bundle(
        bundle / "manifests", bundle / "metadata", Settings().customizations_for(None), inspector
    )
    assert result.labels == {"com.redhat.iib.pinned": "true"}
    assert result.package_name == "kube-green"
    data = csv_data(bundle)
    images = sorted({i["image"] for i in data["spec"]["relatedImages"]})
    assert images == [
        f"docker.io/kubegreen/kube-green@{DIGEST_A}",
        f"gcr.io/kubebuilder/kube-rbac-proxy@{DIGEST_B}",
    ]
    text = (bundle / "manifests" / "kube-green.clusterserviceversion.yaml").read_text()
    assert "kube-green:0.5.0" not in text.replace("kube-green.v0.5.0", "")
    # related_bundles ran after pinning: none of the pinned images is labelled as a bundle
    assert result.related_bundles == []
    # alm-examples (JSON inside YAML) survives the round trip
    assert data["metadata"]["annotations"]["alm-examples"].lstrip().startswith("[")


def test_already_pinned_bundle_is_not_resolved_again(bundle):
    inspector = TableInspector({})
    result = adjust_bundle(
        bundle / "manifests",
        bundle / "metadata",
        Settings().customizations_for(None),
        inspector,
        pinned_by_iib=True,
    )
    assert inspector.resolved == [] and result.labels == {}


def test_an_unreadable_image_fails_with_one_line(bundle):
    inspector = TableInspector({"docker.io/kubegreen/kube-green:0.5.0": DIGEST_A})
    with pytest.raises(
        StepError, match=r"cannot read the image gcr\.io/kubebuilder/kube-rbac-proxy:v0\.13\.0"
    ):
        adjust_bundle(
            bundle / "manifests", bundle / "metadata", Settings().customizations_for(None), inspector
        )


def test_organization_customizations_in_order(bundle):
    mirrored = {
        "mirror.example.com/kubegreen/kube-green:0.5.0": DIGEST_A,
        "mirror.example.com/kubebuilder/kube-rbac-proxy:v0.13.0": DIGEST_B,
    }
    labels = {
        "mirror.example.com/kubebuilder/kube-rbac-proxy": {"com.redhat.delivery.operator.bundle": "true"}
    }
    customizations = [
        Customization(
            type="registry_replacements",
            replacements={"docker.io": "mirror.example.com", "gcr.io": "mirror.example.com"},
        ),
        Customization(type="resolve_image_pullspecs"),
        Customization(type="related_bundles"),
        Customization(type="package_name_suffix", suffix="-acme"),
        Customization(type="csv_annotations", annotations={"acme.com/pkg": "pkg is {package_name}"}),
        Customization(type="enclose_repo", namespace="acme", enclosure_glue="----"),
    ]
    result = adjust_bundle(
        bundle / "manifests",
        bundle / "metadata",
        customizations,
        TableInspector(mirrored, labels),
        organization="acme",
    )
    assert result.related_bundles == [f"mirror.example.com/kubebuilder/kube-rbac-proxy@{DIGEST_B}"]
    assert result.package_name == "kube-green-acme"
    assert result.labels == {
        "com.redhat.iib.pinned": "true",
        "operators.operatorframework.io.bundle.package.v1": "kube-green-acme",
    }
    annotations = YAML().load((bundle / "metadata" / "annotations.yaml").read_text())
    assert annotations["annotations"]["operators.operatorframework.io.bundle.package.v1"] == "kube-green-acme"
    data = csv_data(bundle)
    assert data["metadata"]["annotations"]["acme.com/pkg"] == "pkg is kube-green-acme"
    images = sorted({i["image"] for i in data["spec"]["relatedImages"]})
    assert images == [
        f"mirror.example.com/acme/kubebuilder----kube-rbac-proxy@{DIGEST_B}",
        f"mirror.example.com/acme/kubegreen----kube-green@{DIGEST_A}",
    ]
    # a second run is a no-op for the suffix
    again = adjust_bundle(
        bundle / "manifests",
        bundle / "metadata",
        [Customization(type="package_name_suffix", suffix="-acme")],
        TableInspector({}),
    )
    assert again.package_name == "kube-green-acme" and again.labels == {}


def test_recursive_mode_stops_before_related_bundles(bundle):
    customizations = [
        Customization(type="registry_replacements", replacements={"docker.io": "mirror.example.com"}),
        Customization(type="related_bundles"),
        Customization(type="package_name_suffix", suffix="-never"),
    ]
    result = adjust_bundle(
        bundle / "manifests",
        bundle / "metadata",
        customizations,
        TableInspector({}),
        stop_before_related_bundles=True,
    )
    assert result.stopped_before_related_bundles and result.related_bundles is None
    assert result.package_name == "kube-green"
    assert (
        "mirror.example.com/kubegreen/kube-green:0.5.0"
        in (bundle / "manifests" / "kube-green.clusterserviceversion.yaml").read_text()
    )


def test_bundle_replacements_only_for_bundle_images(bundle):
    new = "quay.io/acme/proxy-rebuilt@" + DIGEST_C
    labels = {"gcr.io/kubebuilder/kube-rbac-proxy:v0.13.0": {"com.redhat.delivery.operator.bundle": "true"}}
    replacements = {
        "gcr.io/kubebuilder/kube-rbac-proxy:v0.13.0": new,
        "docker.io/kubegreen/kube-green:0.5.0": "quay.io/not/applied:1",
    }
    adjust_bundle(
        bundle / "manifests",
        bundle / "metadata",
        [Customization(type="perform_bundle_replacements")],
        TableInspector({}, labels),
        bundle_replacements=replacements,
    )
    text = (bundle / "manifests" / "kube-green.clusterserviceversion.yaml").read_text()
    assert new in text and "quay.io/not/applied" not in text


def test_image_name_from_labels(bundle):
    labels = {
        "docker.io/kubegreen/kube-green:0.5.0": {"name": "green/controller", "version": "5"},
        "gcr.io/kubebuilder/kube-rbac-proxy:v0.13.0": {"name": "proxy", "version": "13"},
    }
    adjust_bundle(
        bundle / "manifests",
        bundle / "metadata",
        [Customization(type="image_name_from_labels", template="{name}-{version}")],
        TableInspector({}, labels),
    )
    images = sorted({i["image"] for i in csv_data(bundle)["spec"]["relatedImages"]})
    assert images == ["docker.io/green/controller-5:0.5.0", "gcr.io/proxy-13:v0.13.0"]
    with pytest.raises(StepError, match="is missing one or more label"):
        adjust_bundle(
            bundle / "manifests",
            bundle / "metadata",
            [Customization(type="image_name_from_labels", template="{release}")],
            TableInspector({}, {}),
        )


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        (None, "metadata/annotations.yaml does not exist in the bundle"),
        ("annotations: [1]\n", "The value of metadata/annotations.yaml must be a dictionary"),
        ("annotations: {a: b}\n", "operators.operatorframework.io.bundle.package.v1 is not set in metadata/"),
        ("annotations: {operators.operatorframework.io.bundle.package.v1: 3}\n", "is not a string"),
        ("annotations: [unclosed\n", "metadata/annotations.yaml is not valid YAML"),
    ],
)
def test_bad_annotations(bundle, annotations, message):
    path = bundle / "metadata" / "annotations.yaml"
    if annotations is None:
        path.unlink()
    else:
        path.write_text(annotations)
    with pytest.raises(StepError, match=message.replace(".", r"\.")):
        adjust_bundle(bundle / "manifests", bundle / "metadata", [], TableInspector({}))


def test_bad_manifests(bundle):
    (bundle / "manifests" / "kube-green.clusterserviceversion.yaml").write_text("a: [unclosed\n")
    with pytest.raises(StepError, match="Operator Manifest"):
        adjust_bundle(bundle / "manifests", bundle / "metadata", [], TableInspector({}))
