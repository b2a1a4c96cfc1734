"""Where steps run. ``host``: each step is a process on this machine, its container paths
(``/workspace/...``, ``/tekton/...``) mapped to per-run folders. ``container``: each step runs in its
image through runc (:mod:`iib_steps.tekton.runner.container`)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.process import LineSink, StepExit, Stopper, run_process

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Mount:
    """A host folder (or file) seen by a step at ``target``."""

    target: str
    source: Path
    readonly: bool = False


@dataclass
class StepProcess:
    """A step ready to run: everything in it already substituted, paths as the step sees them."""

    name: str
    image: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    mounts: list[Mount]
    log_path: Path
    run_as_user: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Runtime(Protocol):
    """Runs prepared steps. ``maps_paths`` is true when container paths must become host paths."""

    name: str
    maps_paths: bool

    def image_command(self, image: str) -> tuple[list[str], list[str]]:
        """The image's ``Entrypoint`` and ``Cmd``, for a step with no command."""
        ...

    def run_step(
        self, step: StepProcess, *, on_line: LineSink | None, deadline: float | None, stopper: Stopper
    ) -> StepExit: ...


def image_config(layout_ref: str) -> dict:
    """The config JSON of an image (``oci:PATH[:TAG]`` or a registry reference)."""
    from iib_steps.errors import StepError
    from iib_steps.images.inspect import get_image_config

    try:
        return get_image_config(layout_ref)
    except StepError as exc:
        raise RunError(f"cannot read the image {layout_ref}: {exc}") from None


def map_image(image: str, image_map: Mapping[str, str]) -> str:
    """The local image (``oci:PATH``) an image reference is mapped to, else the reference itself.

    Keys match the whole reference, or its repository (the part before ``:tag``/``@digest``).
    """
    if image in image_map:
        return image_map[image]
    repo = re.split(r"@", image, maxsplit=1)[0]
    repo = re.sub(r":[^/:]+$", "", repo)
    return image_map.get(repo, image)


class PathMap:
    """Container paths to host paths, longest mount first, for the host runtime."""

    def __init__(self, mounts: list[Mount]) -> None:
        self.mounts = sorted(mounts, key=lambda m: len(m.target), reverse=True)
        if self.mounts:
            alternatives = "|".join(re.escape(m.target.rstrip("/")) for m in self.mounts)
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"(?<![\w./-])({alternatives})(?=/|$|[^\w.-])"
            )
        else:
            self._pattern = None

    def host_path(self, path: str) -> str:
        for m in self.mounts:
            target = m.target.rstrip("/")
            if path == target or path.startswith(target + "/"):
                return str(m.source) + path[len(target) :]
        return path

    def rewrite(self, text: str) -> str:
        """Template text with every mounted container path replaced by its host path."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.host_path(m.group(1)), text)


class HostRuntime:
    """Steps as host processes: the host's environment plus the step's, this venv first on PATH
    (so ``iib-step`` and ``python`` are this project's)."""

    name = "host"
    maps_paths = True

    def __init__(self, image_map: Mapping[str, str] | None = None) -> None:
        self.image_map = dict(image_map or {})
        self._entrypoints: dict[str, tuple[list[str], list[str]]] = {}

    def image_command(self, image: str) -> tuple[list[str], list[str]]:
        if image not in self._entrypoints:
            local = map_image(image, self.image_map)
            if local == image and not image.startswith("oci:"):
                raise RunError(
                    f"a step of image {image} has no command: the host runtime cannot read that image's "
                    "entrypoint; give the step a command or map the image to a local layout "
                    "(--image-map IMAGE=oci:PATH)"
                )
            config = image_config(local).get("config") or {}
            self._entrypoints[image] = (list(config.get("Entrypoint") or []), list(config.get("Cmd") or []))
        return self._entrypoints[image]

    def environment(self, step_env: Mapping[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{path}"
        env.update(step_env)
        return env

    def run_step(
        self, step: StepProcess, *, on_line: LineSink | None, deadline: float | None, stopper: Stopper
    ) -> StepExit:
        cwd = step.cwd
        if cwd:
            try:
                Path(cwd).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RunError(f"step {step.name}: cannot use workingDir {cwd}: {exc.strerror}") from None
        return run_process(
            step.argv,
            env=self.environment(step.env),
            cwd=cwd or None,
            log_path=step.log_path,
            on_line=on_line,
            deadline=deadline,
            stopper=stopper,
        )


def make_runtime(
    runtime: str | Runtime, image_map: Mapping[str, str] | None = None, cache_dir: Path | None = None
) -> Runtime:
    """A runtime by name (``host``, ``container``) or the given object.

    Without an ``image_map``, ``IIB_RUNNER_IMAGE_MAP`` (``IMAGE=oci:PATH[:TAG],...``) gives it.
    """
    if not isinstance(runtime, str):
        return runtime
    if image_map is None:
        image_map = image_map_from_env()
    if runtime == "host":
        return HostRuntime(image_map)
    if runtime == "container":
        from iib_steps.tekton.runner.container import ContainerRuntime

        return ContainerRuntime(image_map, cache_dir=cache_dir)
    raise RunError(f"runtime {runtime!r} is not one of host, container")


def dump_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def image_map_from_env() -> dict[str, str]:
    """``IIB_RUNNER_IMAGE_MAP``: comma-separated ``IMAGE=oci:PATH[:TAG]`` pairs."""
    out: dict[str, str] = {}
    for item in os.environ.get("IIB_RUNNER_IMAGE_MAP", "").split(","):
        image, sep, local = item.strip().partition("=")
        if sep and image and local:
            out[image] = local
    return out
