"""catalog.convert: every ConvertToModel error in opm's order and text, and model → blobs."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.convert import PLAIN_PULL_SPEC, ConvertError, convert_to_model
from catalog.declcfg import (
    Bundle,
    Channel,
    ChannelEntry,
    DeclarativeConfig,
    Deprecation,
    DeprecationEntry,
    Package,
    PackageScopedReference,
    Property,
    RelatedImage,
)
from catalog.model_error import ValidationError


def pkg_prop(name: str, version: str, release: str = "") -> Property:
    value = {"packageName": name, "version": version}
    if release:
        value["release"] = release
    return Property("olm.package", value)


def bundle(name: str, version: str, package: str = "foo", **kw) -> Bundle:
    kw.setdefault("image", f"quay.io/example/{name}")
    kw.setdefault("properties", [pkg_prop(package, version)])
    return Bundle(name=name, package=package, **kw)


def base() -> DeclarativeConfig:
    """foo: channel alpha, foo.v0.2.0 replaces foo.v0.1.0."""
    return DeclarativeConfig(
        packages=[Package("foo", default_channel="alpha", description="Foo")],
        channels=[
            Channel(
                "alpha",
                "foo",
                [ChannelEntry("foo.v0.1.0"), ChannelEntry("foo.v0.2.0", replaces="foo.v0.1.0")],
            )
        ],
        bundles=[bundle("foo.v0.1.0", "0.1.0"), bundle("foo.v0.2.0", "0.2.0")],
    )


def test_base_converts() -> None:
    model = convert_to_model(base())
    foo = model["foo"]
    assert foo.default_channel is foo.channels["alpha"]
    assert foo.channels["alpha"].head().name == "foo.v0.2.0"
    b = foo.channels["alpha"].bundles["foo.v0.2.0"]
    assert str(b.version) == "0.2.0" and b.image == "quay.io/example/foo.v0.2.0"
    assert b.package is foo and b.channel is foo.channels["alpha"]


def _mutations():
    """(name, change to base(), expected message)."""

    def no_pkg_name(c):
        c.packages[0].name = ""

    def dup_pkg(c):
        c.packages.append(Package("foo"))

    def bad_pkg_name(c):
        c.packages.append(Package("foo.bar"))

    def bad_pkg_name_upper(c):
        c.packages.append(Package("Foo"))

    def chan_unknown_pkg(c):
        c.channels.append(Channel("beta", "nope", []))

    def chan_no_pkg(c):
        c.channels.append(Channel("beta", "", []))

    def chan_no_name(c):
        c.channels.append(Channel("", "foo", []))

    def dup_chan(c):
        c.channels.append(Channel("alpha", "foo", []))

    def dup_entry(c):
        c.channels[0].entries.append(ChannelEntry("foo.v0.1.0"))

    def bundle_no_pkg(c):
        c.bundles[0].package = ""

    def bundle_unknown_pkg(c):
        c.bundles.append(bundle("bar.v0.1.0", "0.1.0", package="bar"))

    def dup_bundle(c):
        c.bundles.append(copy.deepcopy(c.bundles[0]))

    def bad_prop(c):
        c.bundles[0].properties.append(Property("olm.gvk", "x"))

    def no_pkg_prop(c):
        c.bundles[0].properties = []

    def two_pkg_props(c):
        c.bundles[0].properties.append(pkg_prop("foo", "0.1.0"))

    def pkg_prop_mismatch(c):
        c.bundles[0].properties = [pkg_prop("foooperator", "0.1.0")]

    def bad_image(c):
        c.bundles[0].image = "quay.io/Example/foo:1"

    def bad_related_image(c):
        c.bundles[0].related_images = [RelatedImage("a", "quay.io/a:1"), RelatedImage("b", "bad image")]

    def bad_version(c):
        c.bundles[0].properties = [pkg_prop("foo", "0.1.0.1")]

    def empty_version(c):
        c.bundles[0].properties = [pkg_prop("foo", "")]

    def bad_release(c):
        c.bundles[0].properties = [pkg_prop("foo", "0.1.0", "!!!")]

    def bad_release_segments(c):
        c.bundles[0].properties = [pkg_prop("foo", "0.1.0", "a..01")]

    def long_release(c):
        c.bundles[0].properties = [pkg_prop("foo", "0.1.0", "a" * 21)]

    def bundle_not_in_channel(c):
        c.bundles.append(bundle("foo.v0.3.0", "0.3.0"))

    def entry_without_bundle(c):
        del c.bundles[0]

    def dep_no_pkg(c):
        c.deprecations.append(Deprecation(""))

    def dep_unknown_pkg(c):
        c.deprecations.append(Deprecation("nyarl"))

    def dep_twice(c):
        c.deprecations += [Deprecation("foo"), Deprecation("foo")]

    def dep_no_schema(c):
        c.deprecations.append(Deprecation("foo", [DeprecationEntry(PackageScopedReference(""), "m")]))

    def dep_dup(c):
        ref = PackageScopedReference("olm.bundle", "foo.v0.1.0")
        c.deprecations.append(Deprecation("foo", [DeprecationEntry(ref, "a"), DeprecationEntry(ref, "b")]))

    def dep_unknown_bundle(c):
        ref = PackageScopedReference("olm.bundle", "foo.v2.0.0")
        c.deprecations.append(Deprecation("foo", [DeprecationEntry(ref, "m")]))

    def dep_unknown_channel(c):
        ref = PackageScopedReference("olm.channel", "beta")
        c.deprecations.append(Deprecation("foo", [DeprecationEntry(ref, "m")]))

    def dep_pkg_with_name(c):
        ref = PackageScopedReference("olm.package", "foo")
        c.deprecations.append(Deprecation("foo", [DeprecationEntry(ref, "m")]))

    def dep_bad_schema(c):
        ref = PackageScopedReference("badschema", "foo.v2.0.0")
        c.deprecations.append(Deprecation("foo", [DeprecationEntry(ref, "m")]))

    return [
        (no_pkg_name, "config contains package with no name"),
        (dup_pkg, 'duplicate package "foo"'),
        (bad_pkg_name, 'invalid package name "foo.bar": [must not contain dots]'),
        (
            bad_pkg_name_upper,
            'invalid package name "Foo": [a lowercase RFC 1123 label must consist of lower case alphanumeric '
            "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
            "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')]",
        ),
        (chan_unknown_pkg, 'unknown package "nope" for channel "beta"'),
        (chan_no_pkg, 'unknown package "" for channel "beta"'),
        (chan_no_name, 'package "foo" contains channel with no name'),
        (dup_chan, 'package "foo" has duplicate channel "alpha"'),
        (dup_entry, 'invalid package "foo", channel "alpha": duplicate entry "foo.v0.1.0"'),
        (bundle_no_pkg, 'package name must be set for bundle "foo.v0.1.0"'),
        (bundle_unknown_pkg, 'unknown package "bar" for bundle "bar.v0.1.0"'),
        (dup_bundle, 'package "foo" has duplicate bundle "foo.v0.1.0"'),
        (
            bad_prop,
            'parse properties for bundle "foo.v0.1.0": parse property[1] of type "olm.gvk": '
            "json: cannot unmarshal string into Go value of type property.GVK",
        ),
        (
            no_pkg_prop,
            'package "foo" bundle "foo.v0.1.0" must have exactly 1 "olm.package" property, found 0',
        ),
        (
            two_pkg_props,
            'package "foo" bundle "foo.v0.1.0" must have exactly 1 "olm.package" property, found 2',
        ),
        (pkg_prop_mismatch, 'package "foo" does not match "olm.package" property "foooperator"'),
        (
            bad_image,
            'package "foo" bundle "foo.v0.1.0" image: invalid image pull spec "quay.io/Example/foo:1": '
            "invalid reference format: repository name (Example/foo) must be lowercase",
        ),
        (
            bad_related_image,
            'package "foo" bundle "foo.v0.1.0" relatedImages[1].image: invalid image pull spec "bad image": '
            "invalid reference format",
        ),
        (
            bad_version,
            'error parsing bundle "foo.v0.1.0" version "0.1.0.1": '
            'Invalid character(s) found in patch number "0.1"',
        ),
        (empty_version, 'error parsing bundle "foo.v0.1.0" version "": Version string empty'),
        (
            bad_release,
            'error parsing bundle "foo.v0.1.0" release version "!!!": invalid release "!!!": '
            'segment 0: Invalid character(s) found in prerelease "!!!"',
        ),
        (
            bad_release_segments,
            'error parsing bundle "foo.v0.1.0" release version "a..01": invalid release "a..01": '
            "segment 1: Prerelease is empty\n"
            'segment 2: Numeric PreRelease version must not contain leading zeroes "01"',
        ),
        (
            long_release,
            f'error parsing bundle "foo.v0.1.0" release version "{"a" * 21}": invalid release "{"a" * 21}": '
            "exceeds maximum length of 20 characters",
        ),
        (bundle_not_in_channel, 'package "foo", bundle "foo.v0.3.0" not found in any channel entries'),
        (
            entry_without_bundle,
            'no olm.bundle blobs found in package "foo" for olm.channel entries [foo.v0.1.0]',
        ),
        (dep_no_pkg, "package name must be set for deprecation item 0"),
        (dep_unknown_pkg, 'cannot apply deprecations to an unknown package "nyarl"'),
        (dep_twice, 'expected a maximum of one deprecation per package: "foo"'),
        (dep_no_schema, 'schema must be set for deprecation entry [0] for package "foo"'),
        (
            dep_dup,
            "duplicate deprecation entry "
            'declcfg.PackageScopedReference{Schema:"olm.bundle", Name:"foo.v0.1.0"} for package "foo"',
        ),
        (dep_unknown_bundle, 'cannot deprecate bundle "foo.v2.0.0" for package "foo": bundle not found'),
        (dep_unknown_channel, 'cannot deprecate channel "beta" for package "foo": channel not found'),
        (dep_pkg_with_name, 'package name must be empty for deprecated package "foo" (specified "foo")'),
        (
            dep_bad_schema,
            'cannot deprecate object declcfg.PackageScopedReference{Schema:"badschema", Name:"foo.v2.0.0"} '
            'referenced by entry 0 for package "foo": object schema unknown',
        ),
    ]


@pytest.mark.parametrize(("mutate", "message"), _mutations(), ids=lambda x: getattr(x, "__name__", "msg"))
def test_convert_errors(mutate, message: str) -> None:
    cfg = base()
    mutate(cfg)
    with pytest.raises(ConvertError) as exc:
        convert_to_model(cfg)
    assert str(exc.value) == message


def test_first_error_wins_packages_before_bundles() -> None:
    cfg = base()
    cfg.bundles[0].properties = []  # a bundle error ...
    cfg.packages.append(Package("foo"))  # ... and a package error: packages are checked first
    with pytest.raises(ConvertError, match=r'^duplicate package "foo"$'):
        convert_to_model(cfg)


def test_image_is_checked_before_the_version() -> None:
    cfg = base()
    cfg.bundles[0].image = "UPPER"
    cfg.bundles[0].properties = [pkg_prop("foo", "bad")]
    with pytest.raises(ConvertError, match="image: invalid image pull spec"):
        convert_to_model(cfg)


def test_only_the_last_channel_of_a_package_is_checked_for_missing_blobs() -> None:
    """opm's quirk: the entries of earlier channels without a bundle blob surface as model errors."""
    cfg = base()
    cfg.channels.insert(0, Channel("aaa", "foo", [ChannelEntry("foo.v9.0.0")]))
    with pytest.raises(ValidationError) as exc:
        convert_to_model(cfg)
    assert str(exc.value) == (
        "invalid index:\n"
        '└── invalid package "foo":\n'
        '    └── invalid channel "aaa":\n'
        '        └── invalid bundle "foo.v9.0.0":\n'
        '            ├── must be exactly one property with type "olm.package"\n'
        "            └── bundle image must be set"
    )


def test_missing_default_channel_becomes_an_empty_channel() -> None:
    cfg = base()
    cfg.packages[0].default_channel = "nope"
    with pytest.raises(ValidationError) as exc:
        convert_to_model(cfg)
    assert str(exc.value) == (
        'invalid index:\n└── invalid package "foo":\n    └── invalid channel "nope":\n'
        "        └── channel must contain at least one bundle"
    )


def test_no_default_channel() -> None:
    cfg = base()
    cfg.packages[0].default_channel = ""
    with pytest.raises(ValidationError) as exc:
        convert_to_model(cfg)
    assert str(exc.value) == 'invalid index:\n└── invalid package "foo":\n    └── default channel must be set'


def test_deprecations_are_applied() -> None:
    cfg = base()
    cfg.channels.append(Channel("beta", "foo", [ChannelEntry("foo.v0.1.0")]))
    cfg.deprecations.append(
        Deprecation(
            "foo",
            [
                DeprecationEntry(PackageScopedReference("olm.package"), "pkg gone"),
                DeprecationEntry(PackageScopedReference("olm.channel", "alpha"), "use beta"),
                DeprecationEntry(PackageScopedReference("olm.bundle", "foo.v0.1.0"), "old"),
            ],
        )
    )
    foo = convert_to_model(cfg)["foo"]
    assert foo.deprecation.message == "pkg gone"
    assert foo.channels["alpha"].deprecation.message == "use beta"
    assert foo.channels["beta"].deprecation is None
    assert foo.channels["alpha"].bundles["foo.v0.1.0"].deprecation.message == "old"
    assert foo.channels["beta"].bundles["foo.v0.1.0"].deprecation.message == "old"


def test_deprecation_without_message_fails_validation() -> None:
    cfg = base()
    ref = PackageScopedReference("olm.bundle", "foo.v0.1.0")
    cfg.deprecations.append(Deprecation("foo", [DeprecationEntry(ref, "")]))
    with pytest.raises(ValidationError) as exc:
        convert_to_model(cfg)
    assert str(exc.value).endswith(
        'invalid bundle "foo.v0.1.0":\n            └── invalid deprecation: message must be set'
    )


def test_release_and_normalized_name() -> None:
    cfg = base()
    cfg.bundles[1].properties = [pkg_prop("foo", "0.2.0", "1")]
    with pytest.raises(ValidationError) as exc:
        convert_to_model(cfg)
    assert str(exc.value).endswith(
        '└── invalid bundle "foo.v0.2.0":\n'
        '            └── name "foo.v0.2.0" does not match normalized name "foo-v0.2.0-1"'
    )
    cfg.bundles[1].name = "foo-v0.2.0-1"
    cfg.channels[0].entries[1].name = "foo-v0.2.0-1"
    b = convert_to_model(cfg)["foo"].channels["alpha"].bundles["foo-v0.2.0-1"]
    assert b.version_string() == "0.2.0-1"


def test_build_metadata_with_release() -> None:
    cfg = base()
    cfg.bundles[1].properties = [pkg_prop("foo", "0.2.0+b", "1")]
    cfg.bundles[1].name = cfg.channels[0].entries[1].name = "foo-v0.2.0+b-1"
    with pytest.raises(ValidationError) as exc:
        convert_to_model(cfg)
    assert str(exc.value).endswith("└── cannot use build metadata in version with a release version")


DIGEST = "abcd1234" * 8


@pytest.mark.parametrize(
    ("image", "related", "message"),
    [
        (
            f"quay.io/operator-framework/foo-bundle@ssha256:{DIGEST}abcd1234",
            [],
            'package "foo" bundle "foo.v0.1.0" image: invalid image pull spec '
            f'"quay.io/operator-framework/foo-bundle@ssha256:{DIGEST}abcd1234": unsupported digest algorithm',
        ),
        (
            "quay.io/operator-framework/foo-bundle@md5:abcd1234abcd1234abcd1234abcd1234",
            [],
            'package "foo" bundle "foo.v0.1.0" image: invalid image pull spec '
            '"quay.io/operator-framework/foo-bundle@md5:abcd1234abcd1234abcd1234abcd1234": '
            "unsupported digest algorithm",
        ),
        (
            "",
            [("bundle", "quay.io/x/foo:1"), ("operator", f"quay.io/x/op@ssha256:{DIGEST}")],
            'package "foo" bundle "foo.v0.1.0" relatedImages[1].image: invalid image pull spec '
            f'"quay.io/x/op@ssha256:{DIGEST}": unsupported digest algorithm',
        ),
        (
            f"quay.io/operator-framework/foo-bundle@sha256:{DIGEST}",
            [("b", f"quay.io/x/foo@sha256:{DIGEST}")],
            None,
        ),
        (f"quay.io/x/foo-bundle:v0.1.0@sha256:{DIGEST}", [("", ""), ("b", "ubuntu")], None),
    ],
)
def test_pull_specs(image: str, related: list[tuple[str, str]], message: str | None) -> None:
    cfg = base()
    cfg.bundles[0].image = image or cfg.bundles[0].image
    cfg.bundles[0].related_images = [RelatedImage(n, i) for n, i in related]
    if message is None:
        convert_to_model(cfg)
    else:
        with pytest.raises(ConvertError) as exc:
            convert_to_model(cfg)
        assert str(exc.value) == message


def test_release_names_as_opm_tests_them() -> None:
    cfg = base()
    cfg.bundles[0].properties = [pkg_prop("foo", "0.1.0", "alpha.1.0.0")]
    cfg.bundles[0].name = cfg.channels[0].entries[0].name = "foo.v0.1.0-alpha.1.0.0"
    cfg.channels[0].entries[1].replaces = "foo.v0.1.0-alpha.1.0.0"
    with pytest.raises(ValidationError) as exc:
        convert_to_model(cfg)
    assert str(exc.value) == (
        "invalid index:\n"
        '└── invalid package "foo":\n'
        '    └── invalid channel "alpha":\n'
        '        └── invalid bundle "foo.v0.1.0-alpha.1.0.0":\n'
        '            └── name "foo.v0.1.0-alpha.1.0.0" does not match normalized name '
        '"foo-v0.1.0-alpha.1.0.0"'
    )
    cfg.bundles[0].name = cfg.channels[0].entries[0].name = "foo-v0.1.0-alpha.1.0.0"
    cfg.channels[0].entries[1].replaces = "foo-v0.1.0-alpha.1.0.0"
    convert_to_model(cfg)


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,3}[a-z0-9])?", fullmatch=True)
_COMPONENT = st.from_regex(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+){0,2}", fullmatch=True)
_SPECS = st.builds(
    lambda labels, port, path, tag, digest: (
        ".".join(labels)
        + (f":{port}" if port is not None else "")
        + "".join(f"/{c}" for c in path)
        + (f":{tag}" if tag else "")
        + (f"@sha256:{digest}" if digest else "")
    ),
    st.lists(_LABEL, min_size=2, max_size=3),
    st.none() | st.integers(0, 65535),
    st.lists(_COMPONENT, min_size=1, max_size=3),
    st.none() | st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}", fullmatch=True),
    st.none() | st.from_regex(r"[a-f0-9]{64}", fullmatch=True),
)


@settings(max_examples=300)
@given(_SPECS)
def test_everyday_pull_specs_are_valid_references(spec: str) -> None:
    from catalog.imageref import parse_normalized_named

    assert PLAIN_PULL_SPEC.fullmatch(spec)
    parse_normalized_named(spec)  # raises if the fast path ever accepted a bad reference


@pytest.mark.parametrize(
    "spec",
    [
        "Quay.io/a/b",
        "quay.io/A/b",
        "localhost/a",
        "ubuntu",
        "quay.io/a/b@sha256:" + "A" * 64,
        "quay.io/a//b",
        "a" * 64,
    ],
)
def test_other_pull_specs_take_the_full_parse(spec: str) -> None:
    assert not PLAIN_PULL_SPEC.fullmatch(spec)
