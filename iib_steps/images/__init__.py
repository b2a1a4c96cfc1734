"""Images without a daemon: registry and OCI-layout I/O, inspection, extraction, builds and copies.

The public operations (every ``image`` is ``docker://host/repo:tag``, ``host/repo:tag`` or
``oci:PATH[:TAG]``; every function takes an optional ``client=RegistryClient(...)``)::

    resolve_image(image) -> ResolvedImage         # .digest (of a list: the list's), .arch_digests, .pull_spec
    get_architectures(image) -> list[str]
    get_labels(image, arch=None) -> dict           # linux/amd64 (or the first) of a list
    get_image_config(image, arch=None) -> dict
    get_layers(image, arch=None) -> list[ExistingLayer]
    extract_index_catalog(image, dest) -> Path     # the directory its configs label names, into dest
    extract_bundle(image, dest) -> Path            # /manifests and /metadata into dest/
    extract_paths(image, {"/in/image": Path(...)}) -> ExtractResult
    build_index_image(binary_image, catalog, destinations, arches=..., labels=..., fmt="v2s2"|"oci")
    build_bundle_image(bundle_dir, destinations, labels=..., fmt=...)
    copy_image(source, destinations) -> CopyResult

The client reads credentials from ``REGISTRY_AUTH_FILE`` or ``~/.docker/config.json``
(``client.auth.add("host/ns/repo", Credentials(user, token))`` for per-request tokens), skips TLS
verification for the hosts in ``IIB_INSECURE_REGISTRIES`` (plain HTTP when they do not speak TLS),
and retries 5xx and dropped connections (``IIB_REGISTRY_RETRIES``, ``IIB_REGISTRY_RETRY_DELAY``).
"""

from iib_steps.images.auth import AuthStore, Credentials
from iib_steps.images.build import (
    BINARYLESS,
    CONFIGS_LABEL,
    BuildResult,
    CatalogLayer,
    build_bundle_image,
    build_index_image,
    bundle_labels,
)
from iib_steps.images.copy import CopyResult, copy_image
from iib_steps.images.extract import ExtractResult, extract_bundle, extract_index_catalog, extract_paths
from iib_steps.images.inspect import (
    ExistingLayer,
    ResolvedImage,
    default_client,
    get_architectures,
    get_image_config,
    get_labels,
    get_layers,
    resolve_image,
)
from iib_steps.images.layers import LayerBlob, LayerSpec, write_layer
from iib_steps.images.manifests import FORMAT_DOCKER, FORMAT_OCI
from iib_steps.images.reference import ImageLocation, LayoutImage, RegistryImage, parse_image
from iib_steps.images.registry import RegistryClient, RegistryError
from iib_steps.images.retry import RetryPolicy

__all__ = [
    "BINARYLESS",
    "CONFIGS_LABEL",
    "FORMAT_DOCKER",
    "FORMAT_OCI",
    "AuthStore",
    "BuildResult",
    "CatalogLayer",
    "CopyResult",
    "Credentials",
    "ExistingLayer",
    "ExtractResult",
    "ImageLocation",
    "LayerBlob",
    "LayerSpec",
    "LayoutImage",
    "RegistryClient",
    "RegistryError",
    "RegistryImage",
    "ResolvedImage",
    "RetryPolicy",
    "build_bundle_image",
    "build_index_image",
    "bundle_labels",
    "copy_image",
    "default_client",
    "extract_bundle",
    "extract_index_catalog",
    "extract_paths",
    "get_architectures",
    "get_image_config",
    "get_labels",
    "get_layers",
    "parse_image",
    "resolve_image",
    "write_layer",
]
