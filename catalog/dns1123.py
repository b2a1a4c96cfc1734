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


def _examples(*examples: str) -> str:
    """How Kubernetes' ``RegexError`` lists examples: each quoted and followed by a comma and a space,
    joined with " or " (hence ``'my-name',  or '123-abc', ``)."""
    return "(e.g. " + " or ".join(f"'{e}', " for e in examples)


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
                f"{_LABEL_ERR} {_examples('my-name', '123-abc')}regex used for validation is '{LABEL_FMT}')"
            )
    return errs
