"""catalog.convert.convert_from_model: model → blobs in opm's order."""

from __future__ import annotations

from catalog.convert import convert_from_model, convert_to_model
from catalog.declcfg import Channel, ChannelEntry, Icon, Package, Property
from tests.catalog.test_convert import base, bundle, pkg_prop


def test_convert_from_model_orders_like_opm() -> None:
    cfg = base()
    cfg.packages[0].icon = Icon("aWNvbg==", "image/png")
    cfg.packages.insert(0, Package("bar", default_channel="stable"))
    cfg.channels.append(Channel("stable", "bar", [ChannelEntry("bar.v1.0.0")]))
    cfg.channels.append(Channel("beta", "foo", [ChannelEntry("foo.v0.2.0")]))
    cfg.bundles.append(bundle("bar.v1.0.0", "1.0.0", package="bar"))
    cfg.bundles[1].properties = [
        Property("olm.gvk", {"group": "z", "kind": "K", "version": "v1"}),
        pkg_prop("foo", "0.2.0"),
        Property("olm.gvk", {"group": "a", "kind": "K", "version": "v1"}),
    ]
    out = convert_from_model(convert_to_model(cfg))
    assert [p.name for p in out.packages] == ["bar", "foo"]
    assert out.packages[1].icon == Icon("aWNvbg==", "image/png")
    assert out.packages[1].description == "Foo"
    assert [(c.package, c.name) for c in out.channels] == [
        ("bar", "stable"),
        ("foo", "alpha"),
        ("foo", "beta"),
    ]
    assert [e.name for e in out.channels[1].entries] == ["foo.v0.1.0", "foo.v0.2.0"]
    assert [(b.package, b.name) for b in out.bundles] == [
        ("bar", "bar.v1.0.0"),
        ("foo", "foo.v0.1.0"),
        ("foo", "foo.v0.2.0"),
    ]
    # the properties of both channel copies, deduplicated, sorted by (type, compact JSON)
    assert [(p.type, p.value.get("group")) for p in out.bundles[2].properties] == [
        ("olm.gvk", "a"),
        ("olm.gvk", "z"),
        ("olm.package", None),
    ]
    # and the result converts again to the same graph
    again = convert_to_model(out)
    assert again["foo"].channels["alpha"].head().name == "foo.v0.2.0"


def _canon(props: list[Property]) -> list[tuple[str, bytes]]:
    from catalog.jsonutil import compact

    return [(p.type, compact(p.value)) for p in props]


def test_real_catalogs_survive_the_round_trip(testdata) -> None:
    """load → model → blobs keeps every channel entry and bundle; properties come out sorted."""
    from catalog.load import load_fs

    for root in sorted((testdata / "catalogs").iterdir()):
        cfg = load_fs(root)
        out = convert_from_model(convert_to_model(cfg))
        assert sorted(p.name for p in out.packages) == sorted(p.name for p in cfg.packages)
        assert [p.default_channel for p in out.packages] == [
            p.default_channel for p in sorted(cfg.packages, key=lambda p: p.name)
        ]

        def entries(channels):
            return {
                (c.package, c.name): sorted(
                    (e.name, e.replaces, tuple(e.skips), e.skip_range) for e in c.entries
                )
                for c in channels
            }

        assert entries(out.channels) == entries(cfg.channels)
        by_name = {(b.package, b.name): b for b in cfg.bundles}
        assert [(b.package, b.name) for b in out.bundles] == sorted(by_name)
        for b in out.bundles:
            src = by_name[(b.package, b.name)]
            assert (b.image, b.related_images) == (src.image, src.related_images)
            got = _canon(b.properties)
            assert got == sorted(set(_canon(src.properties)))


def test_per_package_models() -> None:
    from catalog.convert import convert_from_model, convert_to_model, package_model, split_by_package

    cfg = base()
    cfg.packages.append(Package("bar", default_channel="stable"))
    cfg.channels.append(Channel("stable", "bar", [ChannelEntry("bar.v1.0.0")]))
    cfg.bundles.append(bundle("bar.v1.0.0", "1.0.0", package="bar"))
    parts = split_by_package(cfg)
    assert sorted(parts) == ["bar", "foo"]
    assert [b.name for b in parts["foo"].bundles] == ["foo.v0.1.0", "foo.v0.2.0"]
    bar = package_model(cfg, "bar")
    assert bar.channels["stable"].head().name == "bar.v1.0.0"
    assert str(bar.channels["stable"].bundles["bar.v1.0.0"].version) == "1.0.0"
    assert sorted(convert_to_model(cfg)) == ["bar", "foo"]
    assert [p.name for p in convert_from_model(convert_to_model(cfg)).packages] == ["bar", "foo"]
