"""A small real history for the status page: the example operators added and removed through a running
API, the steps reporting their progress and final state to it and their output uploaded as the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from iib_steps.images.build import build_bundle_image

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
USER_TOKEN, WORKER_TOKEN = "tok-alice", "tok-worker"
API_ENV_TOKENS = json.dumps({USER_TOKEN: "alice", WORKER_TOKEN: "worker"})


def api_env(tmp: Path) -> dict[str, str]:
    """The status API's settings for the demo: SQLite, logs in a folder, no executor (the test runs
    the steps itself, as a worker would)."""
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/iib.db",
        "IIB_REQUEST_LOGS_DIR": str(tmp / "logs"),
        "IIB_GRAPH_CACHE_DIR": str(tmp / "graphs"),
        "IIB_API_TOKENS": API_ENV_TOKENS,
        "IIB_WORKER_USERNAMES": '["worker"]',
        "IIB_EXECUTOR": "none",
    }


@dataclass
class Demo:
    base: str
    images: Path

    def _post(self, kind: str, body: dict) -> int:
        answer = requests.post(
            f"{self.base}/api/v1/builds/{kind}",
            json=body,
            headers={"Authorization": f"Bearer {USER_TOKEN}"},
            timeout=30,
        )
        answer.raise_for_status()
        return int(answer.json()["id"])

    def _step(self, request_id: int, argv: list[str]) -> None:
        env = {
            **os.environ,
            "IIB_STEPS_CONFIG": str(self.images.parent / "steps.yaml"),
            "IIB_STATUS_API_TOKEN": WORKER_TOKEN,
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "iib_steps.cli",
                *argv,
                "--request-id",
                str(request_id),
                "--status-api-url",
                f"{self.base}/api/v1",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        requests.put(
            f"{self.base}/api/v1/builds/{request_id}/logs",
            data=(done.stdout + done.stderr).encode(),
            headers={"Authorization": f"Bearer {WORKER_TOKEN}", "Content-Type": "text/plain"},
            timeout=30,
        ).raise_for_status()
        assert done.returncode == 0, done.stderr

    def bundle(self, package: str, version: str) -> str:
        return f"oci:{self.images}/{package}-bundle:v{version}"

    def run(self) -> dict[str, int]:
        """add (hello 0.1.0, 0.2.0; lamp 0.1.0), add (hello 0.3.0) on it, rm lamp; one left waiting."""
        (self.images.parent / "steps.yaml").write_text(
            f'registry: "oci:{self.images}"\noci_layout_root: "{self.images}"\n'
        )
        for package, version in (
            ("hello-operator", "0.1.0"),
            ("hello-operator", "0.2.0"),
            ("hello-operator", "0.3.0"),
            ("lamp-operator", "0.1.0"),
        ):
            build_bundle_image(EXAMPLES / package / version, [self.bundle(package, version)], fmt="oci")
        first = [
            self.bundle("hello-operator", "0.1.0"),
            self.bundle("hello-operator", "0.2.0"),
            self.bundle("lamp-operator", "0.1.0"),
        ]
        ids = {
            "add": self._post("add", {"bundles": first, "binary_image": "scratch", "add_arches": ["amd64"]})
        }
        self._step(
            ids["add"],
            ["add", "--binary-image", "scratch", "--add-arches", "amd64", *(f"--bundles={b}" for b in first)],
        )
        index = f"oci:{self.images}/iib-build:{ids['add']}"
        second = [self.bundle("hello-operator", "0.3.0")]
        ids["add2"] = self._post("add", {"bundles": second, "binary_image": "scratch", "from_index": index})
        self._step(
            ids["add2"], ["add", "--binary-image", "scratch", "--from-index", index, f"--bundles={second[0]}"]
        )
        index = f"oci:{self.images}/iib-build:{ids['add2']}"
        ids["rm"] = self._post(
            "rm", {"operators": ["lamp-operator"], "binary_image": "scratch", "from_index": index}
        )
        self._step(
            ids["rm"],
            ["rm", "--binary-image", "scratch", "--from-index", index, "--operators", "lamp-operator"],
        )
        ids["waiting"] = self._post(
            "rm", {"operators": ["hello-operator"], "binary_image": "scratch", "from_index": index}
        )
        return ids
