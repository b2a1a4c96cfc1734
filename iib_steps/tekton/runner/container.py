"""The ``container`` runtime: each step in its image through runc, as a Tekton pod's container.

An image (an OCI layout, or a registry reference, possibly mapped to a layout) is unpacked once
into a cached root filesystem; each step gets a copy-on-write view of it (overlayfs, else the
cached tree read-only with a fresh ``/tmp``), the run's folders bind-mounted where Tekton mounts
them (``/workspace/...``, ``/tekton/results`` ...), the image's environment and working directory
under the step's, and the host's network (so loopback registries and the status API are reachable).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.process import LineSink, StepExit, Stopper, run_process
from iib_steps.tekton.runner.runtimes import StepProcess, map_image

RUNC = "runc"
_CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]
_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    base = os.environ.get("IIB_RUNNER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "iib-tekton"
    )
    return Path(base) / "rootfs"


def _keep_mode(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's ``tar`` filter (no paths or links outside the root) keeping the layer's modes."""
    checked = tarfile.tar_filter(member, dest)
    return None if checked is None else checked.replace(mode=member.mode, deep=False)


def _apply_layer(fileobj: Any, root: Path) -> None:
    """Extract one layer over ``root``, honouring whiteouts (``.wh.name`` and ``.wh..wh..opq``)."""
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for member in tar:
            name = member.name.lstrip("./").rstrip("/")
            if not name:
                continue
            parent, _, base = name.rpartition("/")
            if base == ".wh..wh..opq":
                folder = root / parent
                if folder.is_dir():
                    for child in folder.iterdir():
                        _remove(child)
                continue
            if base.startswith(".wh."):
                _remove(root / parent / base[4:])
                continue
            target = root / name
            if target.is_symlink() or (target.exists() and not (target.is_dir() and member.isdir())):
                _remove(target)
            tar.extract(member, root, filter=_keep_mode)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


class ContainerRuntime:
    """Steps in their images through ``runc run`` (we are root; rootless is not needed)."""

    name = "container"
    maps_paths = False

    def __init__(self, image_map: Mapping[str, str] | None = None, cache_dir: Path | None = None) -> None:
        if shutil.which(RUNC) is None:
            raise RunError(
                "the container runtime needs runc: install it (apt-get install runc) or use --runtime host"
            )
        if os.geteuid() != 0:
            raise RunError("the container runtime runs runc as root: run as root or use --runtime host")
        self.image_map = dict(image_map or {})
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self._images: dict[str, tuple[Path, dict[str, Any]]] = {}

    # -- images --------------------------------------------------------------------------------------

    def _image(self, image: str) -> tuple[Path, dict[str, Any]]:
        """The unpacked root filesystem and config of ``image``, unpacking it on first use."""
        with _LOCK:
            if image in self._images:
                return self._images[image]
        from iib_steps.errors import StepError
        from iib_steps.images.inspect import ImageReader

        local = map_image(image, self.image_map)
        try:
            reader = ImageReader(local)
            arch = reader.default_arch_image()
        except StepError as exc:
            raise RunError(
                f"cannot read the step image {image}: {exc} (map it with --image-map IMAGE=oci:PATH)"
            ) from None
        digest = arch.manifest.digest.split(":", 1)[1]
        root = self.cache_dir / digest
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / f".{digest}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / ".unpacked").exists():
                tmp = self.cache_dir / f".{digest}.{uuid.uuid4().hex[:8]}"
                rootfs = tmp / "rootfs"
                rootfs.mkdir(parents=True)
                for layer in arch.parsed.layers:
                    with tempfile.TemporaryFile(dir=self.cache_dir) as fh:
                        reader.store.download_blob(layer.digest, fh)
                        fh.seek(0)
                        _apply_layer(fh, rootfs)
                (tmp / "config.json").write_text(json.dumps(arch.config))
                (tmp / ".unpacked").touch()
                if root.exists():
                    shutil.rmtree(root)
                tmp.rename(root)
        config = json.loads((root / "config.json").read_text())
        with _LOCK:
            self._images[image] = (root / "rootfs", config)
        return root / "rootfs", config

    def image_command(self, image: str) -> tuple[list[str], list[str]]:
        config = self._image(image)[1].get("config") or {}
        return list(config.get("Entrypoint") or []), list(config.get("Cmd") or [])

    # -- steps ---------------------------------------------------------------------------------------

    def run_step(
        self, step: StepProcess, *, on_line: LineSink | None, deadline: float | None, stopper: Stopper
    ) -> StepExit:
        rootfs, config = self._image(step.image)
        image_config = config.get("config") or {}
        bundle = step.log_path.parent / ".tekton" / "bundles" / f"{step.name}-{uuid.uuid4().hex[:6]}"
        merged = bundle / "rootfs"
        for d in ("upper", "work", "rootfs"):
            (bundle / d).mkdir(parents=True, exist_ok=True)
        overlay = _mount_overlay(rootfs, bundle)
        container_id = f"iib-{uuid.uuid4().hex[:16]}"
        state = bundle / "state"
        spec = _runtime_spec(step, image_config, merged if overlay else rootfs, readonly_root=not overlay)
        (bundle / "config.json").write_text(json.dumps(spec))
        argv = [RUNC, "--root", str(state), "run", "--bundle", str(bundle), container_id]
        try:
            return run_process(
                argv,
                env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")},
                cwd=None,
                log_path=step.log_path,
                on_line=on_line,
                deadline=deadline,
                stopper=stopper,
                on_kill=lambda: _runc(state, "kill", container_id, "KILL"),
            )
        finally:
            _runc(state, "delete", "--force", container_id)
            if overlay:
                subprocess.run(["umount", "-l", str(merged)], check=False, capture_output=True)
            shutil.rmtree(bundle, ignore_errors=True)


def _runc(state: Path, *args: str) -> None:
    subprocess.run([RUNC, "--root", str(state), *args], check=False, capture_output=True)


def _mount_overlay(lower: Path, bundle: Path) -> bool:
    """A copy-on-write view of the cached root filesystem at ``bundle/rootfs``; False if refused."""
    options = f"lowerdir={lower},upperdir={bundle / 'upper'},workdir={bundle / 'work'}"
    done = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", options, str(bundle / "rootfs")],
        check=False,
        capture_output=True,
    )
    return done.returncode == 0


def _user(step: StepProcess, image_config: Mapping[str, Any], rootfs: Path) -> tuple[int, int]:
    if step.run_as_user is not None:
        return int(step.run_as_user), 0
    user = str(image_config.get("User") or "")
    if not user:
        return 0, 0
    name, _, group = user.partition(":")
    if name.isdigit():
        return int(name), int(group) if group.isdigit() else 0
    try:
        for line in (rootfs / "etc" / "passwd").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                return int(fields[2]), int(fields[3])
    except (OSError, IndexError, ValueError):
        pass
    raise RunError(f"step {step.name}: the image's user {name!r} is not in its /etc/passwd")


def _runtime_spec(
    step: StepProcess, image_config: Mapping[str, Any], root: Path, readonly_root: bool
) -> dict[str, Any]:
    """The OCI runtime config of one step."""
    env: dict[str, str] = {}
    for item in image_config.get("Env") or ():
        key, _, value = str(item).partition("=")
        env[key] = value
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.setdefault("HOME", "/tekton/home")
    env.update(step.env)
    uid, gid = _user(step, image_config, root)
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
    ]
    if readonly_root:
        mounts.append(
            {
                "destination": "/tmp",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "nodev", "mode=1777"],
            }
        )
    for host_file in ("/etc/resolv.conf", "/etc/hosts"):
        if Path(host_file).exists():
            mounts.append(
                {"destination": host_file, "type": "bind", "source": host_file, "options": ["rbind", "ro"]}
            )
    for m in step.mounts:
        options = ["rbind", "ro" if m.readonly else "rw"]
        mounts.append({"destination": m.target, "type": "bind", "source": str(m.source), "options": options})
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": uid, "gid": gid},
            "args": step.argv,
            "env": [f"{k}={v}" for k, v in env.items()],
            "cwd": step.cwd or str(image_config.get("WorkingDir") or "/"),
            "capabilities": {k: _CAPS for k in ("bounding", "effective", "permitted")},
            "noNewPrivileges": True,
        },
        "root": {"path": str(root), "readonly": readonly_root},
        "hostname": step.name[:63],
        "mounts": mounts,
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
