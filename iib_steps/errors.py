"""Errors a step reports to its user as one line."""


class StepError(Exception):
    """Bad input or a failed operation; the message is the one line the user sees."""
