"""The one error the runner raises for bad input: its message is the single line a user sees."""

from __future__ import annotations

from iib_steps.errors import StepError


class RunError(StepError):
    """A Pipeline, Task, param or workspace the runner cannot run as given.

    ``reason`` is the Tekton condition reason the run would end with on a cluster (for instance
    ``ParameterMissing`` or ``CouldntGetTask``) when the error is found while a run is recorded.
    """

    def __init__(self, message: str, reason: str = "Failed") -> None:
        super().__init__(message)
        self.reason = reason
