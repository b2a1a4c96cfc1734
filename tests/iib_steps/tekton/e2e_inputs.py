"""Inputs the end-to-end Pipeline tests share: bundle images built into OCI layouts from
../shared/testdata/bundles."""

from __future__ import annotations

from pathlib import Path


def bundle_layouts(root: Path, testdata: Path, names: tuple[str, ...]) -> tuple[Path, dict[str, str]]:
    """Build each bundle directory ``<package>-<version>`` of the test data as the image
    ``oci:<root>/images/<package>-bundle:v<version>``; returns the images folder and name -> reference."""
    from iib_steps.images.build import build_bundle_image

    images = root / "images"
    refs = {}
    for name in names:
        package, _, version = name.rpartition("-")
        ref = f"oci:{images}/{package}-bundle:v{version}"
        build_bundle_image(testdata / "bundles" / name, [ref], fmt="oci")
        refs[name] = ref
    return images, refs
