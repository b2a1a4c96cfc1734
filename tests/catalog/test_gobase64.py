"""catalog.gobase64: what Go's base64.StdEncoding.DecodeString accepts."""

from __future__ import annotations

import pytest

from catalog.gobase64 import std_decode


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("aGk=", b"hi"),
        ("aGVs\nbG8=\n", b"hello"),  # line breaks are skipped anywhere
        ("aGVs\r\nbG8=", b"hello"),
        ("", b""),
    ],
)
def test_accepted(text: str, data: bytes) -> None:
    assert std_decode(text) == data


@pytest.mark.parametrize("text", ["aGk", "aG k=", "aGk=aGk=", "aGk=\t", "é"])
def test_refused(text: str) -> None:
    # Missing padding, spaces or tabs, data after padding, non-ASCII: Go reports an error.
    assert std_decode(text) is None
