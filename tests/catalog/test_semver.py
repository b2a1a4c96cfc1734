"""catalog.semver against blang/semver v4's parse, compare and range rules and error texts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.semver import PRVersion, SemverError, Version, parse, parse_range


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3",
        "0.0.1",
        "0.0.1-alpha.preview+123.456",
        "1.2.3-alpha.1+123.456",
        "1.2.3-alpha.1",
        "1.2.3+123.456",
        "1.2.3-alpha.b-eta+123.b-uild",
        "1.2.3+123.b-uild",
        "1.2.3-alpha.b-eta",
        "18446744073709551615.0.0",
        "1.2.3-0.1.a",
        "1.0.0+001",  # build metadata may have leading zeros
    ],
)
def test_parse_round_trips(text: str) -> None:
    assert str(parse(text)) == text


def test_parse_fields() -> None:
    v = parse("1.2.3-alpha.7+build.9")
    assert (v.major, v.minor, v.patch) == (1, 2, 3)
    assert v.pre == (PRVersion("alpha"), PRVersion("7", 7, True))
    assert v.build == ("build", "9")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Version string empty"),
        ("0.1", "No Major.Minor.Patch elements found"),
        ("1", "No Major.Minor.Patch elements found"),
        ("v1.2.3", 'Invalid character(s) found in major number "v1"'),
        ("01.2.3", 'Major number must not contain leading zeroes "01"'),
        ("1.a.3", 'Invalid character(s) found in minor number "a"'),
        ("1.02.3", 'Minor number must not contain leading zeroes "02"'),
        ("0.1.0.1", 'Invalid character(s) found in patch number "0.1"'),
        ("1.2.03", 'Patch number must not contain leading zeroes "03"'),
        ("1.2.3-", "Prerelease is empty"),
        ("1.2.3-a..b", "Prerelease is empty"),
        ("1.2.3-01", 'Numeric PreRelease version must not contain leading zeroes "01"'),
        ("1.2.3-a_b", 'Invalid character(s) found in prerelease "a_b"'),
        ("1.2.3+", "Build meta data is empty"),
        ("1.2.3+a..b", "Build meta data is empty"),
        ("1.2.3+a_b", 'Invalid character(s) found in build meta data "a_b"'),
        ("..", 'strconv.ParseUint: parsing "": invalid syntax'),
        ("1.2.", 'strconv.ParseUint: parsing "": invalid syntax'),
        ("18446744073709551616.0.0", 'strconv.ParseUint: parsing "18446744073709551616": value out of range'),
        ("1.2.3-ü", 'Invalid character(s) found in prerelease "ü"'),
        ("1.2.3-\t", 'Invalid character(s) found in prerelease "\\t"'),
        (" 1.2.3", 'Invalid character(s) found in major number " 1"'),
    ],
)
def test_parse_errors(text: str, error: str) -> None:
    with pytest.raises(SemverError) as exc:
        parse(text)
    assert str(exc.value) == error


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0.0", "1.0.0", 0),
        ("2.0.0", "1.0.0", 1),
        ("0.1.0", "0.1.0", 0),
        ("0.2.0", "0.1.0", 1),
        ("0.0.2", "0.0.1", 1),
        ("3.0.0", "2.9.9", 1),
        ("1.2.3-alpha", "1.2.3", -1),
        ("1.0.0-alpha", "1.0.0-alpha.1", -1),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
        ("1.0.0-alpha.beta", "1.0.0-beta", -1),
        ("1.0.0-beta", "1.0.0-beta.2", -1),
        ("1.0.0-beta.2", "1.0.0-beta.11", -1),
        ("1.0.0-beta.11", "1.0.0-rc.1", -1),
        ("1.0.0-rc.1", "1.0.0", -1),
        ("1.0.0+build.1", "1.0.0+build.2", 0),  # build metadata has no precedence
        ("1.0.0-1", "1.0.0-A", -1),  # numbers before words
        ("1.0.0-B", "1.0.0-a", -1),  # words compare bytewise
    ],
)
def test_compare(a: str, b: str, want: int) -> None:
    va, vb = parse(a), parse(b)
    assert va.compare(vb) == want
    assert vb.compare(va) == -want
    assert (va < vb) == (want < 0)
    assert (va == vb) == (want == 0)


def test_sorting_by_key_matches_compare() -> None:
    texts = ["1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-alpha", "0.9.9", "1.0.0-alpha.1"]
    assert [str(v) for v in sorted(parse(t) for t in texts)] == [
        "0.9.9",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]


@pytest.mark.parametrize(
    ("rng", "cases"),
    [
        (">1.2.3", {"1.2.2": False, "1.2.3": False, "1.2.4": True}),
        (">=1.2.3", {"1.2.3": True, "1.2.4": True, "1.2.2": False}),
        ("<1.2.3", {"1.2.2": True, "1.2.3": False, "1.2.4": False}),
        ("<=1.2.3", {"1.2.2": True, "1.2.3": True, "1.2.4": False}),
        ("1.2.3", {"1.2.2": False, "1.2.3": True, "1.2.4": False}),
        ("=1.2.3", {"1.2.3": True, "1.2.4": False}),
        ("==1.2.3", {"1.2.3": True, "1.2.4": False}),
        ("!=1.2.3", {"1.2.2": True, "1.2.3": False}),
        ("!1.2.3", {"1.2.2": True, "1.2.3": False}),
        (">1.2.2 <1.2.4", {"1.2.2": False, "1.2.3": True, "1.2.4": False}),
        (">1.2.2 <1.2.5 !=1.2.4", {"1.2.3": True, "1.2.4": False, "1.2.5": False}),
        (">1.2.2 || <1.2.4", {"1.2.2": True, "1.2.3": True, "1.2.4": True}),
        ("<1.2.2 || >1.2.4", {"1.2.2": False, "1.2.3": False, "1.2.4": False}),
        (">1.x", {"0.1.9": False, "1.9.0": False, "2.0.0": True}),
        (">1.2.x", {"1.2.6": False, "1.3.0": True}),
        ("<=1.2.x", {"1.2.9": True, "1.3.0": False}),
        (">=1.x.1", {"1.0.1": True, "1.0.0": False}),  # blang reads a middle x as 0
        # blang expands "!=1.2.x" to "<1.2.0 >=1.3.0" joined by AND: nothing matches
        ("!=1.2.x", {"1.1.9": False, "1.2.5": False, "1.3.0": False}),
        ("1.x || >=2.0.x <2.2.x", {"0.9.2": False, "1.2.2": True, "2.1.8": True, "2.2.0": False}),
        (">1.2.2 <1.2.4 || >=2.0.0 <3.0.0", {"1.2.3": True, "2.9.9": True, "3.0.0": False}),
        (">= 1.0.0 < 2.0.0", {"1.5.0": True, "2.0.0": False}),  # spaces after an operator are kept
        ("   >=0.1.0    <0.3.0   ", {"0.2.0": True, "0.3.0": False}),
        (">=4.0.0 <4.3.0-rc.1", {"4.3.0-beta.1": True, "4.3.0-rc.1": False}),
    ],
)
def test_range_matches(rng: str, cases: dict[str, bool]) -> None:
    r = parse_range(rng)
    for version, want in cases.items():
        assert r(parse(version)) is want, (rng, version)


@pytest.mark.parametrize(
    ("rng", "error"),
    [
        (">v0.1.0", 'Could not parse Range ">v0.1.0": Could not parse comparator ">v" in ">v0.1.0"'),
        (">>1.2.3", 'Could not parse Range ">>1.2.3": Could not parse comparator ">>" in ">>1.2.3"'),
        ("~1.2.3", 'Could not parse Range "~1.2.3": Could not parse comparator "~" in "~1.2.3"'),
        ("^1.2.3", 'Could not parse Range "^1.2.3": Could not parse comparator "^" in "^1.2.3"'),
        (
            ">=1.0",
            'Could not parse Range ">=1.0": Could not parse version "1.0" in ">=1.0": '
            "No Major.Minor.Patch elements found",
        ),
        (
            "<v1.0.0",
            'Could not parse Range "<v1.0.0": Could not parse comparator "<v" in "<v1.0.0"',
        ),
        (
            ">=1.0.0-01",
            'Could not parse Range ">=1.0.0-01": Could not parse version "1.0.0-01" in ">=1.0.0-01": '
            'Numeric PreRelease version must not contain leading zeroes "01"',
        ),
        ("string", 'Could not get version from string: "string"'),
        ("fo.ob.ar.x", 'Could not get version from string: "fo.ob.ar.x"'),
        ("", "Last element in range is '||'"),
        ("1", "Last element in range is '||'"),  # blang's tokenizer drops one-character terms
        (">1.0.0 ||", "Last element in range is '||'"),
        ("|| >1.0.0", "First element in range is '||'"),
        (">=x", 'Could not get version from string: ">=x"'),
        (">1.x.1", 'Could not get version from string: ">="'),  # not a wildcard: no bound left
    ],
)
def test_range_errors(rng: str, error: str) -> None:
    with pytest.raises(SemverError) as exc:
        parse_range(rng)
    assert str(exc.value) == error


def test_empty_alternative_parses() -> None:
    """blang accepts "a || || b" (the empty alternative only fails when evaluated)."""
    assert parse_range("1.2.3 || || 2.0.0").alternatives[1] == ()


def test_version_zero_value_is_0_0_0() -> None:
    assert str(Version()) == "0.0.0"


def test_real_skip_ranges_parse(testdata) -> None:
    """Every skipRange of the real catalogs parses (opm accepted them all)."""
    import re

    seen = 0
    for path in sorted((testdata / "catalogs").rglob("*")):
        if path.is_file():
            for m in re.finditer(r"skipRange: (['\"]?)(.+?)\1\n", path.read_text(errors="replace")):
                parse_range(m.group(2))
                seen += 1
    assert seen > 100


_NUMS = st.sampled_from(
    ["0", "1", "01", "10", "123", "", "x", "18446744073709551615", "18446744073709551616"]
)
_IDS = st.sampled_from(["alpha", "0", "01", "1a", "-", "a-b", "", "7", "Z_"])
_SHAPED = st.builds(
    lambda a, b, c, pre, build: (
        f"{a}.{b}.{c}" + (f"-{'.'.join(pre)}" if pre else "") + (f"+{'.'.join(build)}" if build else "")
    ),
    _NUMS,
    _NUMS,
    _NUMS,
    st.lists(_IDS, max_size=3),
    st.lists(_IDS, max_size=2),
)


@settings(max_examples=1000)
@given(st.one_of(st.text(alphabet="0123456789.-+aZ_", max_size=14), _SHAPED))
def test_the_fast_path_agrees_with_blangs_steps(text: str) -> None:
    from catalog.semver import _parse_slow, _parse_valid

    fast = _parse_valid(text)
    try:
        slow = _parse_slow(text)
    except SemverError:
        assert fast is None, text
        return
    if fast is None:  # the fast path leaves only 20-digit numbers to the slow one
        assert re.search(r"[0-9]{20}", text), text
        return
    assert (fast.major, fast.minor, fast.patch, fast.pre, fast.build) == (
        slow.major,
        slow.minor,
        slow.patch,
        slow.pre,
        slow.build,
    )
    assert [p.is_num for p in fast.pre] == [p.is_num for p in slow.pre]
