"""Configuration: one settings file (YAML, JSON or TOML) named by ``IIB_SETTINGS_FILE``, then the environment.

Names follow IIB's where IIB has the option (``SQLALCHEMY_DATABASE_URI``, ``LOGIN_DISABLED``,
``IIB_MAX_PER_PAGE``, ``IIB_WORKER_USERNAMES`` ...). An environment variable of the same name wins
over the file; lists and mappings are given there as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml


class SettingsError(Exception):
    """A settings file or variable that cannot be used; the message says which and why."""


@dataclass
class Settings:
    """Every option of the status API, with IIB's defaults where IIB has the option."""

    SQLALCHEMY_DATABASE_URI: str = "sqlite:///iib-status.db"
    LOGIN_DISABLED: bool = False
    IIB_MAX_PER_PAGE: int = 20
    IIB_WORKER_USERNAMES: list[str] = field(default_factory=list)
    IIB_BINARY_IMAGE_CONFIG: dict[str, Any] = field(default_factory=dict)
    IIB_GRAPH_MODE_OPTIONS: list[str] = field(
        default_factory=lambda: ["replaces", "semver", "semver-skippatch"]
    )
    IIB_GRAPH_MODE_INDEX_ALLOW_LIST: list[str] = field(default_factory=list)
    IIB_REQUEST_DATA_DAYS_TO_LIVE: int = 3
    IIB_REQUEST_LOGS_DIR: str | None = None
    IIB_REQUEST_RELATED_BUNDLES_DIR: str | None = None
    IIB_REQUEST_RECURSIVE_RELATED_BUNDLES_DIR: str | None = None
    IIB_AWS_S3_BUCKET_NAME: str | None = None
    # Ours: an S3 endpoint other than AWS (MinIO, Ceph, moto); boto3 reads credentials as usual.
    IIB_AWS_S3_ENDPOINT_URL: str | None = None
    # Ours: the header a fronting proxy sets to the authenticated user (IIB's REMOTE_USER).
    # Unset, no header is trusted.
    IIB_REMOTE_USER_HEADER: str | None = None
    # Ours: bearer tokens and the user each stands for ({token: username}).
    IIB_API_TOKENS: dict[str, str] = field(default_factory=dict)
    # Ours: check other bearer tokens with a Kubernetes TokenReview (ServiceAccounts).
    IIB_KUBERNETES_TOKEN_REVIEW: bool = False
    # Ours: which PipelineRuns the watcher records.
    IIB_WATCH_NAMESPACE: str = "default"
    IIB_WATCH_LABEL_SELECTOR: str = "app.kubernetes.io/part-of=iib"
    # Ours: the database connection pool of each server process.
    IIB_DB_POOL_SIZE: int = 5
    # IIB's queue routing ({user | "SERIAL:<user>" | "PARALLEL:<user>": queue | {index: queue, "all": q}}).
    IIB_USER_TO_QUEUE: dict[str, Any] = field(default_factory=dict)
    # Ours: what starts a POSTed request's Pipeline (status_api/executors): local, kubernetes or none.
    IIB_EXECUTOR: str = "local"
    # Ours: the status API base URL the steps report to (e.g. http://127.0.0.1:8080/api/v1); unset,
    # steps do not PATCH and only the PipelineRun's outcome is recorded.
    IIB_STATUS_API_URL: str | None = None
    # Ours: the step image the Pipelines run (their ``step-image`` param); unset, their default.
    IIB_STEP_IMAGE: str | None = None
    # Ours, local executor: runs at once, its state folder, where the Pipelines are, the runtime
    # (host or container), the steps' settings (iib_steps.config keys) and a registry auth file.
    IIB_LOCAL_WORKERS: int = 2
    IIB_LOCAL_RUNS_DIR: str = "iib-runs"
    IIB_LOCAL_PIPELINES_DIR: str | None = None
    IIB_LOCAL_RUNTIME: str = "host"
    IIB_LOCAL_STEPS_SETTINGS: dict[str, Any] = field(default_factory=dict)
    IIB_LOCAL_REGISTRY_AUTH_FILE: str | None = None
    # Ours, kubernetes executor: where PipelineRuns go and as whom, per queue
    # ({queue: {"namespace", "service_account"}}), how the Pipeline is resolved ("cluster" or
    # "bundles" with IIB_PIPELINE_BUNDLE), workspace bindings ({name: WorkspaceBinding}), timeout.
    IIB_KUBERNETES_NAMESPACE: str | None = None
    IIB_KUBERNETES_SERVICE_ACCOUNT: str | None = None
    IIB_KUBERNETES_QUEUES: dict[str, Any] = field(default_factory=dict)
    IIB_KUBERNETES_WATCH: bool = True
    IIB_PIPELINE_RESOLVER: str = "cluster"
    IIB_PIPELINE_BUNDLE: str | None = None
    IIB_PIPELINE_NAMESPACE: str | None = None
    IIB_PIPELINE_WORKSPACES: dict[str, Any] = field(default_factory=dict)
    IIB_PIPELINE_TIMEOUT: str | None = None
    IIB_PIPELINERUN_PREFIX: str = "iib"
    # AMQP 1.0 state-change messages (IIB's names and defaults; off while no destination is set).
    IIB_MESSAGING_URLS: list[str] = field(default_factory=list)
    IIB_MESSAGING_BUILD_STATE_DESTINATION: str | None = None
    IIB_MESSAGING_BATCH_STATE_DESTINATION: str | None = None
    IIB_MESSAGING_CA: str | None = "/etc/pki/tls/certs/ca-bundle.crt"
    IIB_MESSAGING_CERT: str | None = "/etc/iib/messaging.crt"
    IIB_MESSAGING_KEY: str | None = "/etc/iib/messaging.key"
    IIB_MESSAGING_DURABLE: bool = True
    IIB_MESSAGING_TIMEOUT: int = 30
    # Ours: how often unsent messages are retried in the background, and the first delay (doubling).
    IIB_MESSAGING_RETRIES: int = 5
    IIB_MESSAGING_RETRY_DELAY: float = 5.0
    # Ours: the API's public root URL, for links in messages sent outside an HTTP request (the watcher).
    IIB_PUBLIC_URL: str | None = None
    # Greenwave gating of add requests, by queue (IIB's); the default queue's key is null (or "").
    IIB_GREENWAVE_CONFIG: dict[Any, Any] = field(default_factory=dict)
    # OpenTelemetry tracing (IIB's switch); OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME are read
    # from the environment, as OpenTelemetry defines them.
    IIB_OTEL_TRACING: bool = False
    # Ours: where the status page keeps the catalogs it extracts to draw upgrade graphs
    # (default: iib-status-graphs in the system's temporary folder).
    IIB_GRAPH_CACHE_DIR: str | None = None

    @property
    def artifacts_configured(self) -> bool:
        """True when logs can be served (a local folder or S3), as IIB decides whether to link them."""
        return bool(self.IIB_REQUEST_LOGS_DIR or self.IIB_AWS_S3_BUCKET_NAME)


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    """Turn a raw file value or environment string into the option's type, or raise SettingsError."""
    origin = getattr(kind, "__origin__", None)
    optional_str = kind == (str | None)
    if isinstance(raw, str):
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise SettingsError(f"{name} must be true or false, not {raw!r}")
        if kind is int:
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be an integer, not {raw!r}") from None
        if kind is float:
            try:
                return float(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a number, not {raw!r}") from None
        if origin in (list, dict):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise SettingsError(f"{name} must be JSON: {exc}") from None
        if optional_str:
            return raw or None
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        raw = float(raw)
    expected = {list: list, dict: dict}.get(origin, None if optional_str else kind)
    if optional_str and raw is not None and not isinstance(raw, str):
        raise SettingsError(f"{name} must be a string")
    if expected is not None and not isinstance(raw, expected):
        raise SettingsError(f"{name} must be a {expected.__name__}")
    return raw


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SettingsError(f"cannot read the settings file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"the settings file {path} is not valid: {exc}".splitlines()[0]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"the settings file {path} must hold a mapping of option names to values")
    return data


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the settings file named by IIB_SETTINGS_FILE (if any), then the environment, then overrides."""
    env = os.environ if environ is None else environ
    hints = get_type_hints(Settings)
    names = {f.name for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    if env.get("IIB_SETTINGS_FILE"):
        for key, raw in _read_file(Path(env["IIB_SETTINGS_FILE"])).items():
            if key not in names:
                raise SettingsError(f"unknown option {key} in {env['IIB_SETTINGS_FILE']}")
            values[key] = _coerce(key, hints[key], raw)
    for key in names:
        if key in env:
            values[key] = _coerce(key, hints[key], env[key])
    for key, raw in overrides.items():
        if key not in names:
            raise SettingsError(f"unknown option {key}")
        values[key] = raw
    settings = Settings(**values)
    if settings.IIB_MAX_PER_PAGE < 1:
        raise SettingsError("IIB_MAX_PER_PAGE must be at least 1")
    _check_executor(settings)
    from status_api.greenwave import check_config

    check_config(settings.IIB_GREENWAVE_CONFIG, settings.IIB_USER_TO_QUEUE)
    from status_api.tracing import check

    check(settings, env)
    return settings


def _check_executor(settings: Settings) -> None:
    from status_api.executors.routing import check_user_to_queue

    if settings.IIB_EXECUTOR not in ("local", "kubernetes", "none"):
        raise SettingsError(f"IIB_EXECUTOR must be local, kubernetes or none, not {settings.IIB_EXECUTOR!r}")
    if settings.IIB_LOCAL_WORKERS < 1:
        raise SettingsError("IIB_LOCAL_WORKERS must be at least 1")
    if settings.IIB_LOCAL_RUNTIME not in ("host", "container"):
        raise SettingsError(
            f"IIB_LOCAL_RUNTIME must be host or container, not {settings.IIB_LOCAL_RUNTIME!r}"
        )
    if settings.IIB_PIPELINE_RESOLVER not in ("cluster", "bundles"):
        raise SettingsError(
            f"IIB_PIPELINE_RESOLVER must be cluster or bundles, not {settings.IIB_PIPELINE_RESOLVER!r}"
        )
    bundles = settings.IIB_PIPELINE_RESOLVER == "bundles"
    if settings.IIB_EXECUTOR == "kubernetes" and bundles and not settings.IIB_PIPELINE_BUNDLE:
        raise SettingsError("IIB_PIPELINE_BUNDLE must name the Tekton bundle with the bundles resolver")
    problem = check_user_to_queue(settings.IIB_USER_TO_QUEUE)
    if problem:
        raise SettingsError(problem)
