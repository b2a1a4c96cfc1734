"""Which Greenwave config an add request is gated with (spec/iib.md §2.8, §7): IIB_GREENWAVE_CONFIG.

IIB picks the config by the request's Celery queue and hands it to the worker, which does the gating
after resolving the bundles. Here the gating is done by the ``iib-step add`` step the same way, and
the API passes the config along with the request's parameters (``greenwave_config``), which the
executor gives the PipelineRun as its ``greenwave_config`` param (the step's ``--greenwave-config``).
The API has no queues of its own, so the config of the default queue applies: the key ``null`` in a
YAML settings file, or ``""`` in JSON.
"""

from __future__ import annotations

from typing import Any

from status_api.settings import Settings, SettingsError

REQUIRED = ("decision_context", "product_version", "subject_type")
DEFAULT_QUEUE_KEYS = (None, "", "null")


def check_config(config: dict[Any, Any]) -> None:
    """IIB's checks of IIB_GREENWAVE_CONFIG, with IIB's messages."""
    for queue, values in config.items():
        if not isinstance(values, dict):
            raise SettingsError(
                f'The Greenwave config of queue {queue} in "IIB_GREENWAVE_CONFIG" must be a mapping'
            )
        missing = [key for key in REQUIRED if key not in values]
        if missing:
            raise SettingsError(
                f'Missing required params {", ".join(missing)} for queue {queue} in "IIB_GREENWAVE_CONFIG"'
            )
        if values["subject_type"] != "koji_build":
            raise SettingsError(
                'IIB only supports gating for subject_type "koji_build". Invalid subject_type '
                f'{values["subject_type"]} defined for queue {queue} in "IIB_GREENWAVE_CONFIG"'
            )


def config_for(settings: Settings, queue: str | None = None) -> dict[str, str] | None:
    """The Greenwave config of ``queue`` (None: the default queue), or None when not gated."""
    configs = settings.IIB_GREENWAVE_CONFIG
    if queue not in DEFAULT_QUEUE_KEYS:
        return configs.get(queue)
    for key in DEFAULT_QUEUE_KEYS:
        if key in configs:
            return configs[key]
    return None


def with_gating(settings: Settings, request_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` of an add request plus its ``greenwave_config`` when its queue is gated."""
    if request_type != "add":
        return params
    config = config_for(settings)
    return {**params, "greenwave_config": dict(config)} if config else params
