"""Which Greenwave config an add request is gated with (spec/iib.md §2.8, §7): IIB_GREENWAVE_CONFIG.

IIB picks the config by the request's queue (``IIB_USER_TO_QUEUE``, as routing.user_queue decides
it) and hands it to the worker, which does the gating after resolving the bundles. Here the gating
is done by the ``iib-step add`` step the same way: the API adds the config to the request's
parameters (``greenwave_config``), which the executor passes as the Pipeline param
``greenwave-config`` (the step's ``--greenwave-config``). The default queue's key is ``null`` in a
YAML settings file, or ``""`` in JSON.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from status_api.executors.base import Submission
from status_api.settings import Settings, SettingsError

REQUIRED = ("decision_context", "product_version", "subject_type")
DEFAULT_QUEUE_KEYS = (None, "", "null")


def _queue_names(user_to_queue: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for value in user_to_queue.values():
        names.update(value.values() if isinstance(value, dict) else [value])
    return names


def check_config(config: dict[Any, Any], user_to_queue: dict[str, Any] | None = None) -> None:
    """IIB's checks of IIB_GREENWAVE_CONFIG, with IIB's messages."""
    unknown = sorted(
        str(q) for q in config if q not in DEFAULT_QUEUE_KEYS and q not in _queue_names(user_to_queue or {})
    )
    if unknown:
        raise SettingsError(
            f'The following queues are invalid in "IIB_GREENWAVE_CONFIG": {", ".join(unknown)}'
        )
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


def gated(settings: Settings, submission: Submission) -> Submission:
    """An add request with its queue's ``greenwave_config`` added to its params, when that queue is gated."""
    if submission.request_type != "add" or not settings.IIB_GREENWAVE_CONFIG:
        return submission
    from status_api.executors.routing import user_queue

    config = config_for(settings, user_queue(settings.IIB_USER_TO_QUEUE, submission))
    if not config:
        return submission
    return dataclasses.replace(submission, params={**submission.params, "greenwave_config": dict(config)})
