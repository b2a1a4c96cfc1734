"""Greenwave gating of an add request's bundles (spec/iib.md §7), as IIB's worker does it.

After the bundles are resolved and before anything is built, each bundle's Koji build NVR (its labels
``com.redhat.component``-``version``-``release``) is sent to ``POST <greenwave_url>/decision`` with
the request's Greenwave config (chosen by the API per queue: ``decision_context``,
``product_version``, ``subject_type``). Any bundle whose policies are not satisfied fails the step
with one line naming the bundles and every unsatisfied requirement.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import requests

from iib_steps import tracing
from iib_steps.errors import StepError

log = logging.getLogger(__name__)

REQUIRED_KEYS = ("decision_context", "product_version", "subject_type")
NVR_LABELS = ("com.redhat.component", "version", "release")


def parse_config(text: str | None) -> dict[str, str] | None:
    """The ``--greenwave-config`` option: a JSON object with IIB's three keys, or empty for none."""
    if not text or not text.strip() or text.strip() == "null":
        return None
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise StepError(f"--greenwave-config must be a JSON object: {exc}") from None
    if not isinstance(config, dict):
        raise StepError("--greenwave-config must be a JSON object")
    missing = [key for key in REQUIRED_KEYS if not config.get(key)]
    if missing:
        raise StepError(f"Missing required params {', '.join(missing)} in the Greenwave config")
    if config["subject_type"] != "koji_build":
        raise StepError(
            'IIB only supports gating for subject_type "koji_build". '
            f"Invalid subject_type {config['subject_type']} in the Greenwave config"
        )
    return config


def koji_build_nvr(bundle: str, labels: Mapping[str, str]) -> str:
    """The NVR of a bundle from its labels; a missing label is named (IIB fails with a KeyError)."""
    missing = [label for label in NVR_LABELS if not labels.get(label)]
    if missing:
        raise StepError(
            f"Gating check failed for {bundle}: the bundle image has no {', '.join(missing)} "
            "label, needed for its Greenwave subject"
        )
    return "-".join(labels[label] for label in NVR_LABELS)


def _requirement(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("testcase") or item.get("type") or item)
    return str(item)


def gate_bundles(
    url: str | None,
    bundles: Sequence[tuple[str, Mapping[str, str]]],
    config: Mapping[str, str],
    *,
    session: requests.Session | None = None,
    timeout: float = 120.0,
) -> None:
    """Ask Greenwave about every ``(resolved bundle, labels)``; raise StepError unless all pass."""
    if not url:
        raise StepError("IIB is not configured to handle gating of bundles")
    http = session or requests.Session()
    endpoint = f"{url.rstrip('/')}/decision"
    log.info("Gating on bundles: %s", ", ".join(b for b, _ in bundles))
    unsatisfied: list[str] = []
    testcases: list[str] = []
    for bundle, labels in bundles:
        payload = {**config, "subject_identifier": koji_build_nvr(bundle, labels)}
        log.debug("Querying Greenwave with %s", payload)
        try:
            headers = tracing.current_headers() if tracing.enabled() else {}
            response = http.post(endpoint, json=payload, timeout=timeout, headers=headers)
        except requests.RequestException as exc:
            raise StepError(f"Gating check failed for {bundle}: {exc}") from None
        try:
            data = response.json()
        except ValueError:
            log.error("Error encountered in decoding JSON %s", response.text)
            data = {}
        if not isinstance(data, dict):
            data = {}
        if not response.ok:
            message = data.get("message") or response.text
            raise StepError(f"Gating check failed for {bundle}: {message}")
        if "policies_satisfied" not in data:
            raise StepError(f'Key "policies_satisfied" missing in Greenwave response for {bundle}')
        if not data["policies_satisfied"]:
            log.info("Gating decision for %s: %s", bundle, data)
            unsatisfied.append(bundle)
            for item in data.get("unsatisfied_requirements") or []:
                name = _requirement(item)
                if name not in testcases:
                    testcases.append(name)
    if unsatisfied:
        raise StepError(
            f"Unsatisfied Greenwave policy for {', '.join(unsatisfied)} "
            f"with decision_context: {config['decision_context']}, "
            f"product_version: {config['product_version']}, "
            f"subject_type: {config['subject_type']} "
            f"and test cases: {', '.join(testcases)}"
        )
