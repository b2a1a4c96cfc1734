"""catalog.model: every model message, deterministic trees, and the graph rules (with hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.declcfg import Property
from catalog.model import Bundle, Channel, Deprecation, HeadError, Model, Package
from catalog.semver import parse


def pkg_prop(name: str, version: str) -> Property:
    return Property("olm.package", {"packageName": name, "version": version})


def make_package(name: str = "foo") -> Package:
    return Package(name=name)


def add_channel(pkg: Package, name: str, entries: list[tuple], *, default: bool = False) -> Channel:
    """entries: (bundle name, replaces, skips) with version 0.0.<index>."""
    ch = Channel(package=pkg, name=name)
    for i, (bname, replaces, skips) in enumerate(entries):
        ch.bundles[bname] = Bundle(
            package=pkg,
            channel=ch,
            name=bname,
            image=f"quay.io/x/{bname}",
            replaces=replaces,
            skips=list(skips),
            properties=[pkg_prop(pkg.name, f"0.0.{i}")],
            version=parse(f"0.0.{i}"),
        )
    pkg.channels[name] = ch
    if default:
        pkg.default_channel = ch
    return ch


def tree(*leaves: str, pkg: str = "foo", channel: str | None = None, bundle: str | None = None) -> str:
    """The text of a one-branch tree down to the given leaves."""
    lines = ["invalid index:", f'└── invalid package "{pkg}":']
    indent = "    "
    if channel is not None:
        lines.append(f'{indent}└── invalid channel "{channel}":')
        indent += "    "
    if bundle is not None:
        lines.append(f'{indent}└── invalid bundle "{bundle}":')
        indent += "    "
    for i, leaf in enumerate(leaves):
        lines.append(f"{indent}{'└── ' if i == len(leaves) - 1 else '├── '}{leaf}")
    return "\n".join(lines)


def validate_text(model: Model) -> str | None:
    err = model.validate()
    return None if err is None else str(err)


def one(pkg: Package) -> Model:
    return Model({pkg.name: pkg})


# ------------------------------------------------------------------------------------------
# Package messages


def test_valid_package() -> None:
    pkg = make_package()
    add_channel(pkg, "alpha", [("a", "", ()), ("b", "a", ())], default=True)
    assert validate_text(one(pkg)) is None


def test_package_messages_in_opm_order() -> None:
    pkg = make_package("")
    assert validate_text(one(pkg)) == (
        "invalid index:\n"
        '└── invalid package "":\n'
        "    ├── package name must not be empty\n"
        "    ├── default channel must be set\n"
        "    └── package must contain at least one channel"
    )


def test_channel_key_and_link_and_default_not_found() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("a", "", ())])
    pkg.channels["other"] = pkg.channels.pop("alpha")
    ch.package = ch.bundles["a"].package = make_package("bar")
    pkg.default_channel = Channel(package=pkg, name="ghost")
    assert validate_text(one(pkg)) == tree(
        'channel key "other" does not match channel name "alpha"',
        'channel "alpha" not correctly linked to parent package',
        'default channel "ghost" not found in channels list',
    )


def test_duplicate_versions() -> None:
    pkg = make_package()
    ch = add_channel(
        pkg, "alpha", [("a", "", ()), ("b", "a", ()), ("c", "b", ()), ("d", "c", ())], default=True
    )
    ch.bundles["b"].version = parse("0.0.0")
    ch.bundles["d"].version = parse("0.0.2+build")
    ch.bundles["c"].version = parse("0.0.2+build")
    assert validate_text(one(pkg)) == tree(
        "duplicate versions found in bundles: [{0.0.0: [a, b]} {0.0.2+build: [c, d]}]"
    )


def test_duplicate_versions_count_release() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("foo-v0.0.0-1", "", ()), ("b", "foo-v0.0.0-1", ())], default=True)
    ch.bundles["b"].version = parse("0.0.0")
    ch.bundles["foo-v0.0.0-1"].release = (parse("0.0.0-1").pre[0],)
    assert validate_text(one(pkg)) is None


def test_package_deprecation_without_message() -> None:
    pkg = make_package()
    add_channel(pkg, "alpha", [("a", "", ())], default=True)
    pkg.deprecation = Deprecation("")
    assert validate_text(one(pkg)) == tree("invalid deprecation: message must be set")


def test_package_key_mismatch() -> None:
    pkg = make_package()
    add_channel(pkg, "alpha", [("a", "", ())], default=True)
    assert (
        validate_text(Model({"bar": pkg}))
        == 'invalid index:\n└── package key "bar" does not match package name "foo"'
    )


# ------------------------------------------------------------------------------------------
# Channel messages


def test_channel_messages() -> None:
    pkg = make_package()
    ch = Channel(package=None, name="")
    pkg.channels[""] = ch
    pkg.default_channel = ch
    assert validate_text(one(pkg)) == (
        "invalid index:\n"
        '└── invalid package "foo":\n'
        '    ├── invalid channel "":\n'
        "    │   ├── channel name must not be empty\n"
        "    │   ├── package must be set\n"
        "    │   └── channel must contain at least one bundle\n"
        '    └── channel "" not correctly linked to parent package'
    )


def test_bundle_key_and_link() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("a", "", ())], default=True)
    ch.bundles["z"] = ch.bundles.pop("a")
    ch.bundles["z"].channel = Channel(package=pkg, name="other")
    # the package does not match the (other) channel's package either? it does: same pkg
    assert validate_text(one(pkg)) == tree(
        'bundle key "z" does not match bundle name "a"',
        'bundle "a" not correctly linked to parent channel',
        channel="alpha",
    )


def test_channel_deprecation_without_message() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("a", "", ())], default=True)
    ch.deprecation = Deprecation("")
    assert validate_text(one(pkg)) == tree("invalid deprecation: message must be set", channel="alpha")


def test_no_head() -> None:
    pkg = make_package()
    add_channel(pkg, "alpha", [("a", "b", ()), ("b", "a", ())], default=True)
    assert validate_text(one(pkg)) == tree("no channel head found in graph", channel="alpha")


def test_cycle_below_head() -> None:
    pkg = make_package()
    add_channel(pkg, "alpha", [("a", "c", ()), ("b", "a", ()), ("c", "b", ()), ("d", "c", ())], default=True)
    assert validate_text(one(pkg)) == tree(
        "detected cycle in replaces chain of upgrade graph: c -> b -> a -> c", channel="alpha"
    )


def test_stranded_and_skips() -> None:
    pkg = make_package()
    add_channel(
        pkg,
        "alpha",
        [("a", "", ()), ("b", "a", ()), ("x", "y", ()), ("y", "x", ()), ("s", "", ()), ("h", "b", ("s",))],
        default=True,
    )
    assert validate_text(one(pkg)) == tree(
        "channel contains one or more stranded bundles: x, y", channel="alpha"
    )


def test_replaces_edge_to_a_skipped_bundle_is_not_followed() -> None:
    """opm v1.58+: 'c replaces b, skips b' stops the chain at c; a (replaced by b only) is stranded."""
    pkg = make_package()
    add_channel(pkg, "alpha", [("a", "", ()), ("b", "a", ()), ("c", "b", ("b",))], default=True)
    assert validate_text(one(pkg)) == tree(
        "channel contains one or more stranded bundles: a", channel="alpha"
    )


def test_tail_may_replace_a_missing_bundle() -> None:
    pkg = make_package()
    add_channel(pkg, "alpha", [("a", "gone", ()), ("b", "a", ())], default=True)
    assert validate_text(one(pkg)) is None


def test_channels_and_packages_in_name_order() -> None:
    foo, bar = make_package("foo"), make_package("bar")
    for pkg in (foo, bar):
        add_channel(pkg, "zeta", [], default=True)
        add_channel(pkg, "alpha", [])
    text = validate_text(Model({"foo": foo, "bar": bar}))
    assert text is not None
    assert text.index('"bar"') < text.index('"foo"')
    assert text.index('"alpha"') < text.index('"zeta"')


# ------------------------------------------------------------------------------------------
# Bundle messages


def test_bundle_messages() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("a", "", ("", "x", ""))], default=True)
    b = ch.bundles["a"]
    b.skip_range = ">v0.1.0"
    b.image = ""
    b.properties = [Property("olm.gvk", {})]
    b.deprecation = Deprecation("")
    assert validate_text(one(pkg)) == tree(
        "skip[0] is empty",
        "skip[2] is empty",
        'invalid skipRange ">v0.1.0": '
        'Could not parse Range ">v0.1.0": Could not parse comparator ">v" in ">v0.1.0"',
        'must be exactly one property with type "olm.package"',
        "bundle image must be set",
        "invalid deprecation: message must be set",
        channel="alpha",
        bundle="a",
    )


def test_bundle_with_objects_needs_no_image() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("a", "", ())], default=True)
    b = ch.bundles["a"]
    b.image = ""
    b.properties.append(Property("olm.bundle.object", {"data": "e30="}))
    assert validate_text(one(pkg)) is None


def test_bundle_property_parse_error_and_links() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("a", "", ())], default=True)
    b = ch.bundles["a"]
    b.properties = [Property("olm.package", 7)]
    b.package = make_package("bar")
    assert validate_text(one(pkg)) == tree(
        "package does not match channel's package",
        'parse property[0] of type "olm.package": json: cannot unmarshal number into Go value of type '
        "property.Package",
        channel="alpha",
        bundle="a",
    )


def test_bundle_without_name_channel_package() -> None:
    b = Bundle(package=None, channel=None, name="", image="x", properties=[pkg_prop("foo", "1.0.0")])
    err = b.validate()
    assert err is not None
    assert (
        str(err)
        == 'invalid bundle "":\n├── name must be set\n├── channel must be set\n└── package must be set'
    )


def test_compare_and_sort_key() -> None:
    pkg = make_package()
    ch = add_channel(pkg, "alpha", [("a", "", ()), ("b", "a", ()), ("c", "b", ())], default=True)
    a, b, c = ch.bundles["a"], ch.bundles["b"], ch.bundles["c"]
    b.version = a.version = parse("1.0.0")
    b.release = parse("0.0.0-2").pre
    c.version = parse("1.0.0")
    c.release = parse("0.0.0-10").pre
    assert a.compare(b) == -1 and b.compare(a) == 1 and b.compare(c) == -1 and a.compare(a) == 0
    assert sorted([c, b, a], key=Bundle.sort_key) == [a, b, c]


def test_add_bundle() -> None:
    model = Model()
    pkg = make_package()
    b = Bundle(package=pkg, channel=Channel(package=pkg, name="alpha"), name="a", image="i")
    model.add_bundle(b)
    model.add_bundle(Bundle(package=make_package(), channel=Channel(package=None, name="beta"), name="b"))
    assert set(model["foo"].channels) == {"alpha", "beta"}
    assert model["foo"].default_channel is model["foo"].channels["alpha"]
    assert model["foo"].channels["beta"].bundles["b"].package is pkg


# ------------------------------------------------------------------------------------------
# Graph rules, property-based


def opm_replaces_chain_check(ch: Channel) -> str | None:
    """opm's validateReplacesChain, restated naively (copying the path for each node): the oracle."""
    try:
        head = ch.head()
    except HeadError as exc:
        return str(exc)
    skipped = {s for b in ch.bundles.values() for s in b.skips}
    chain_from: dict[str, list[str]] = {}
    on_chain = {head.name}
    cur = head
    while cur is not None:
        chain_from.setdefault(cur.name, [cur.name])
        if cur.replaces in skipped:
            break
        for k in chain_from:
            chain_from[k].append(cur.replaces)
        if cur.replaces in on_chain:
            return "detected cycle in replaces chain of upgrade graph: " + " -> ".join(
                chain_from[cur.replaces]
            )
        on_chain.add(cur.replaces)
        cur = ch.bundles.get(cur.replaces)
    stranded = sorted(set(ch.bundles) - on_chain - skipped)
    if stranded:
        return "channel contains one or more stranded bundles: " + ", ".join(stranded)
    return None


NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), min_size=1, max_size=12, unique=True)


def linear(names: list[str]) -> list[tuple]:
    """names[0] is the tail; each replaces the one before; the last is the head."""
    return [(n, names[i - 1] if i else "", ()) for i, n in enumerate(names)]


def chain_check(entries: list[tuple]) -> str | None:
    pkg = make_package()
    return add_channel(pkg, "c", entries, default=True)._validate_replaces_chain()


@given(NAMES)
def test_a_linear_chain_always_validates(names: list[str]) -> None:
    pkg = make_package()
    ch = add_channel(pkg, "c", linear(names), default=True)
    assert ch.head().name == names[-1]
    assert ch.replaces_chain()[: len(names)] == names[::-1]
    assert validate_text(one(pkg)) is None


@given(NAMES, st.data())
def test_an_unreachable_entry_is_stranded(names: list[str], data: st.DataObject) -> None:
    extra = data.draw(st.from_regex(r"[A-Z][a-z]{0,4}", fullmatch=True))
    entries = linear(names)
    # two new entries that only replace each other: both have an incoming edge, neither is reached
    entries += [(extra + "1", extra + "2", ()), (extra + "2", extra + "1", ())]
    assert chain_check(entries) == f"channel contains one or more stranded bundles: {extra}1, {extra}2"


@given(NAMES, st.data())
def test_a_skipped_entry_is_never_stranded(names: list[str], data: st.DataObject) -> None:
    entries = linear(names)
    head, rest = entries[-1], entries[:-1]
    entries = [*rest, (head[0], head[1], ("Skipped",)), ("Skipped", "", ())]
    assert chain_check(entries) is None


@given(
    st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), min_size=2, max_size=12, unique=True),
    st.data(),
)
def test_closing_the_chain_into_a_loop_gives_the_cycle_path(names: list[str], data: st.DataObject) -> None:
    j = data.draw(st.integers(0, len(names) - 2))  # the tail replaces names[j], not the head
    entries = linear(names)
    entries[0] = (names[0], names[j], ())
    path = [names[j], *names[j - 1 :: -1]] if j else [names[0]]
    assert chain_check(entries) == "detected cycle in replaces chain of upgrade graph: " + " -> ".join(
        [*path, names[j]]
    )


@given(NAMES, st.data())
def test_two_unreferenced_entries_are_two_heads(names: list[str], data: st.DataObject) -> None:
    other = data.draw(st.from_regex(r"[A-Z][a-z]{0,4}", fullmatch=True))
    # the new entry may replace the tail too (a second branch), as long as the tail is not the head
    branch = len(names) > 1 and data.draw(st.booleans())
    entries = [*linear(names), (other, names[0] if branch else "", ())]
    heads = ", ".join(sorted([names[-1], other]))
    assert chain_check(entries) == f"multiple channel heads found in graph: {heads}"


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcdefgh"),
            st.sampled_from(["", *"abcdefghz"]),
            st.lists(st.sampled_from("abcdefghz"), max_size=2),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda e: e[0],
    )
)
def test_random_graphs_agree_with_opms_algorithm(entries: list[tuple]) -> None:
    pkg = make_package()
    ch = add_channel(pkg, "c", entries, default=True)
    assert ch._validate_replaces_chain() == opm_replaces_chain_check(ch)
