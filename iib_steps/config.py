"""The step settings: IIB's worker options that still apply (spec/iib.md §8), from one YAML/JSON file.

The file is named by ``--config`` or the ``IIB_STEPS_CONFIG`` environment variable; without one the
defaults below apply (good for the embedded default: OCI layouts on disk, no registry).

Secrets never live in the file itself: a secret setting names a *file* (``*_file``) or an environment
variable (``*_env``), and its value is read only when a step needs it. :class:`Secret` keeps the value
out of ``repr``/``str`` so that it cannot be echoed by accident.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from iib_steps.errors import StepError

CONFIG_ENV = "IIB_STEPS_CONFIG"
CONFIG_KEYS = ("config.yaml", "config.json")
TOKEN_FILE_ENV = "IIB_STATUS_API_TOKEN_FILE"
DEFAULT_PUSH_TEMPLATE = "{registry}/iib-build:{request_id}"
SCOPES = ("prod", "stage", "dev")

# Customization types of operator-manifest bundle regeneration, in IIB's default order (§6).
CUSTOMIZATION_TYPES = (
    "resolve_image_pullspecs",
    "related_bundles",
    "package_name_suffix",
    "registry_replacements",
    "perform_bundle_replacements",
    "image_name_from_labels",
    "csv_annotations",
    "enclose_repo",
)


class Secret:
    """A secret value that prints as ``*****``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: pass it straight to where it is used, never to a log."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('*****')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


SECRET_KEY = "token"


def mounted_file(path: str | os.PathLike[str] | None, key: str) -> Path | None:
    """A file named by ``path``, or the file ``key`` inside it when ``path`` is a directory.

    An empty path means "not given": that is what an unbound optional Tekton workspace's
    ``$(workspaces.<w>.path)`` becomes, and a bound one is a directory holding the Secret's keys.
    """
    if path is None or str(path) == "":
        return None
    file = Path(path)
    return file / key if file.is_dir() else file


def read_secret(file: str | None = None, env: str | None = None) -> Secret | None:
    """Read a secret from a file (its content, stripped of the final newline) or an environment variable.

    ``file`` may be a directory (a mounted Secret): its file ``token`` is read.
    """
    path = mounted_file(file, SECRET_KEY)
    if path is not None:
        try:
            return Secret(path.read_text().rstrip("\n"))
        except OSError as exc:
            raise StepError(f"cannot read the secret file {path}: {exc.strerror}") from None
    if env:
        value = os.environ.get(env)
        if value:
            return Secret(value)
    return None


class Customization(BaseModel):
    """One entry of ``organization_customizations[org]`` (operator-manifest bundle regeneration)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    suffix: str | None = None  # package_name_suffix
    replacements: dict[str, str] | None = None  # registry_replacements
    template: str | None = None  # image_name_from_labels
    annotations: dict[str, str] | None = None  # csv_annotations
    namespace: str | None = None  # enclose_repo
    enclosure_glue: str | None = None  # enclose_repo

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in CUSTOMIZATION_TYPES:
            raise ValueError(f"unknown customization type {value!r}; known: {', '.join(CUSTOMIZATION_TYPES)}")
        return value


class Settings(BaseModel):
    """Every setting a step reads. Names follow IIB's worker config without the ``iib_`` prefix."""

    model_config = ConfigDict(extra="forbid")

    # Where output images go. ``registry`` may also be ``oci:/some/dir`` for OCI layouts on disk.
    registry: str = "oci:iib-output"
    image_push_template: str = DEFAULT_PUSH_TEMPLATE
    index_image_output_registry: str | None = None
    # {distribution scope: {ocp version: binary image}}; "scratch" means binaryless.
    binary_image_config: dict[str, dict[str, str]] = Field(default_factory=dict)
    binary_image_less_arches_allowed_versions: list[str] = Field(default_factory=list)
    supported_archs: dict[str, str] = Field(
        default_factory=lambda: {
            "amd64": "x86_64",
            "arm64": "aarch64",
            "s390x": "s390x",
            "ppc64le": "ppc64le",
        }
    )
    required_labels: dict[str, str] = Field(default_factory=dict)
    organization_customizations: dict[str, list[Customization]] = Field(default_factory=dict)
    related_image_registry_replacement: dict[str, dict[str, str]] = Field(default_factory=dict)
    no_ocp_label_allow_list: list[str] = Field(default_factory=list)
    graph_mode_index_allow_list: list[str] = Field(default_factory=list)
    max_recursive_related_bundles: int = 15
    # Retries of registry reads and status-API calls (IIB's iib_total_attempts / iib_retry_*).
    total_attempts: int = 5
    retry_delay: float = 1.0
    retry_multiplier: float = 2.0
    api_timeout: float = 120.0
    # Catalogs record bundles from OCI layouts as <oci_layout_registry>/<dir name>@<digest>.
    oci_layout_registry: str = "localhost/oci-layout"
    # ... and read such a pull spec back from oci:<oci_layout_root>/<dir name>@<digest> when set.
    oci_layout_root: str | None = None
    # The catalog is laid out in this many layers, packages grouped by a hash of their name. A
    # one-package change reads and packs one group: on the 8,000-bundle catalog 64 groups cost half
    # the CPU of 16 per request, and 64 plus the binary image's few layers stay well under the 127
    # layers container runtimes mount.
    catalog_layer_groups: int = 64
    # Processes that load, validate and pack the layer groups of an index not built here (IIB's
    # single catalog layer, opm's); 0: one per CPU this step may use (its cgroup quota), at most 4
    # (one on a single CPU). 1: load the whole catalog in this process (no worker; the least memory).
    catalog_workers: int = 0
    # Greenwave's API root (IIB's iib_greenwave_url); add requests given a Greenwave config gate on it.
    greenwave_url: str | None = None
    # Registries (host[:port]) reached without TLS verification, plain HTTP when they speak no TLS;
    # added to those of the IIB_INSECURE_REGISTRIES environment variable. A setting rather than only
    # the variable, so that it reaches steps in containers through the steps-config workspace.
    insecure_registries: list[str] = Field(default_factory=list)
    # Secrets: by file or by environment variable, never inline.
    registry_auth_file: str | None = None  # a containers auth.json / docker config.json
    status_api_token_file: str | None = None
    status_api_token_env: str | None = "IIB_STATUS_API_TOKEN"

    @field_validator("binary_image_config")
    @classmethod
    def _scopes(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for scope, versions in value.items():
            if scope not in SCOPES:
                raise ValueError(f"distribution scope {scope!r} is not one of {', '.join(SCOPES)}")
            for ocp, image in versions.items():
                if not isinstance(image, str) or not image:
                    raise ValueError(f"binary image for {scope}/{ocp} must be a non-empty string")
        return value

    @field_validator("catalog_workers")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 (one per CPU) or more")
        return value

    @field_validator("catalog_layer_groups", "total_attempts", "max_recursive_related_bundles")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    def customizations_for(self, organization: str | None) -> list[Customization]:
        """The organization's customizations, or IIB's default order when it has none."""
        if organization and organization in self.organization_customizations:
            return list(self.organization_customizations[organization])
        return [Customization(type=t) for t in CUSTOMIZATION_TYPES]

    def status_api_token(self) -> Secret | None:
        """The token from ``status_api_token_file``, ``$IIB_STATUS_API_TOKEN_FILE`` (a file or a mounted
        Secret's directory) or the environment variable ``status_api_token_env``."""
        file = self.status_api_token_file or os.environ.get(TOKEN_FILE_ENV) or None
        return read_secret(file, self.status_api_token_env)


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load the settings from ``path`` (or ``$IIB_STEPS_CONFIG``), or the defaults when neither is set.

    A directory (a mounted ConfigMap or Secret) holds the file as ``config.yaml`` or ``config.json``.
    """
    if path is None:
        path = os.environ.get(CONFIG_ENV) or None
    if path is None or str(path) == "":
        return Settings()
    file = Path(path)
    if file.is_dir():  # a mounted ConfigMap or Secret (an optional Tekton workspace)
        found = [file / key for key in CONFIG_KEYS if (file / key).is_file()]
        if not found:
            raise StepError(f"the settings directory {file} holds neither {' nor '.join(CONFIG_KEYS)}")
        file = found[0]
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise StepError(f"cannot read the settings file {file}: {exc.strerror}") from None
    data: Any
    try:
        data = orjson.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StepError(f"the settings file {file} is not valid YAML/JSON: {first}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StepError(f"the settings file {file} must hold a mapping of settings")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top)"
        raise StepError(f"the settings file {file} is invalid at {where}: {err['msg']}") from None
