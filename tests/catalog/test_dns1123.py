"""catalog.dns1123: Kubernetes' IsDNS1123Label answers and messages."""

from __future__ import annotations

import pytest

from catalog.dns1123 import label_errors

REGEX_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize("name", ["a", "0", "kube-green", "a-1", "1-a", "a--b", "x" * 63, "123"])
def test_valid_labels(name: str) -> None:
    assert label_errors(name) == []


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("foo.bar", ["must not contain dots"]),
        ("Foo", [REGEX_MSG]),
        ("", [REGEX_MSG]),
        ("-a", [REGEX_MSG]),
        ("a-", [REGEX_MSG]),
        ("a_b", [REGEX_MSG]),
        ("a\n", [REGEX_MSG]),  # no "$ before a newline" leniency
        ("é", [REGEX_MSG]),
        ("x" * 64, ["must be no more than 63 characters"]),
        ("X" * 64, ["must be no more than 63 characters", REGEX_MSG]),
        ("a." * 32 + "b", ["must be no more than 63 characters", "must not contain dots"]),
    ],
)
def test_invalid_labels(name: str, errors: list[str]) -> None:
    assert label_errors(name) == errors
