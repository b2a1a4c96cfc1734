"""catalog.model_error: opm's tree error text."""

from __future__ import annotations

from catalog.model_error import ValidationError as VE


def test_message_only() -> None:
    assert str(VE("hello")) == "hello"
    assert str(VE("")) == ""
    assert VE("hello").or_none() is None


def test_leaves() -> None:
    assert str(VE("hello", ["world", "foobar"])) == "hello:\n├── world\n└── foobar"


def test_empty_subtree_is_a_plain_line() -> None:
    err = VE("hello", [VE("foo", []), VE("bar", ["bar1", "bar2"])])
    assert str(err) == "hello:\n├── foo\n└── bar:\n    ├── bar1\n    └── bar2"


def test_nested_subtrees() -> None:
    err = VE("hello", [VE("foo", ["foo1", "foo2"]), VE("bar", ["bar1", "bar2"])])
    assert str(err) == ("hello:\n├── foo:\n│   ├── foo1\n│   └── foo2\n└── bar:\n    ├── bar1\n    └── bar2")


def test_deep_tree() -> None:
    err = VE(
        "invalid index",
        [
            VE(
                'invalid package "foo"',
                [VE('invalid channel "bar"', ["channel must contain at least one bundle"])],
            )
        ],
    )
    assert str(err) == (
        "invalid index:\n"
        '└── invalid package "foo":\n'
        '    └── invalid channel "bar":\n'
        "        └── channel must contain at least one bundle"
    )


def test_a_node_inside_itself_is_drawn_once() -> None:
    l1 = VE("l1")
    l1.sub_errors = ["err1", VE("l2", ["err3", l1, "err4"]), "err2"]
    assert str(l1) == "l1:\n├── err1\n├── l2:\n│   ├── err3\n│   └── err4\n└── err2"


def test_add_ignores_none() -> None:
    err = VE("x")
    err.add(None)
    err.add("leaf")
    assert err.or_none() is err
    assert err.sub_errors == ["leaf"]
