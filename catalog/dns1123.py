"""Kubernetes' DNS-1123 label check (``validation.IsDNS1123Label``) with its exact messages."""

from __future__ import annotations

import re

LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
LABEL_MAX_LENGTH = 63
_LABEL = re.compile(LABEL_FMT)
_SUBDOMAIN = re.compile(LABEL_FMT + r"(\." + LABEL_FMT + ")*")
_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)


def label_errors(value: str) -> list[str]:
    """Every reason ``value`` is not a DNS-1123 label, in Kubernetes' words; empty when it is one."""
    errs: list[str] = []
    if len(value.encode()) > LABEL_MAX_LENGTH:
        errs.append(f"must be no more than {LABEL_MAX_LENGTH} characters")
    if not _LABEL.fullmatch(value):
        if _SUBDOMAIN.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(
                f"{_LABEL_ERR} (e.g. 'my-name' or '123-abc', regex used for validation is '{LABEL_FMT}')"
            )
    return errs
