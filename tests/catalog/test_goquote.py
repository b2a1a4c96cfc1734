"""catalog.goquote: Go's %q for strings."""

from __future__ import annotations

import pytest

from catalog.goquote import go_list, go_quote


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("", '""'),
        ("kube-green", '"kube-green"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("line\nnext\ttab", '"line\\nnext\\ttab"'),
        ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
        ("\u0085", '"\\u0085"'),
        ("é└── 日本", '"é└── 日本"'),
        ("\u200b", '"\\u200b"'),
        ("\U000e0001", '"\\U000e0001"'),
        (">v0.1.0", '">v0.1.0"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


def test_go_list() -> None:
    assert go_list(["a", "b"]) == "[a b]"
    assert go_list([]) == "[]"
