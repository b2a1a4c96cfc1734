"""Lift ``olm.bundle.object`` payloads out of a JSON stream before parsing, for loads that only validate.

Most of a catalog's bytes are bundle-object payloads: base64 text that opm decodes at load and that no
later rule reads (the model only asks whether a bundle has objects). A load whose blobs are validated
and then dropped can therefore check each payload on the raw bytes, where a plain base64 test runs at
memory speed, and hand the JSON parser a short stand-in instead: the parser, the negative-zero scan and
the property checks then see a tenth of the bytes, and no payload becomes a Python string.

Soundness. Only a payload that passes the loader's own fast base64 test is lifted, and its stand-in
passes the same test, so the load's outcome is unchanged *if* each lifted span was exactly the
``data`` string of an ``olm.bundle.object`` property as the loader reads it. The spans are found by a
byte pattern, which could in principle be fooled (the pattern inside a string, duplicate keys), so the
parsed blobs are checked afterwards: every stand-in must sit exactly once where the loader reads a
bundle object's payload, in a blob whose keys leave no doubt about which field is which. Stand-ins
start with a random secret of this process, so no catalog can contain one. When the check fails the
caller parses the original bytes as usual.
"""

from __future__ import annotations

import os
import re
from typing import Any

_TYPE = b'"olm.bundle.object"'
_WS = rb"[ \t\r\n]*"
# From the end of the type's string to the opening quote of the payload, as opm writes a property
# (type first, then value); any JSON whitespace between the tokens.
_TO_PAYLOAD = re.compile(_WS.join(map(re.escape, (b"", b",", b'"value"', b":", b"{", b'"data"', b":", b'"'))))
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_SECRET = os.urandom(12).hex()  # 24 characters of base64's alphabet, as is each stand-in's index
_STAND_IN = _SECRET.encode() + b"%08d"  # 32 characters: plain base64 to the loader, as the payload was
_MAX_LIFTED = 10**8  # stand-ins keep their 32 characters below this
# The only keys a bundle blob may have for its stand-ins to count: no two of them are the same field
# to Go's case-insensitive matching, so "schema" and "properties" are what the loader reads.
_BUNDLE_KEYS = frozenset(("schema", "package", "name", "image", "properties", "relatedImages"))


def plausible_base64(raw: bytes) -> bool:
    """Whether ``raw`` is padded standard base64 (translate runs at memory speed)."""
    if len(raw) % 4 or raw.translate(None, _BASE64):
        return False
    pad = raw.find(b"=")
    return pad == -1 or (pad >= len(raw) - 2 and raw[pad:].count(b"=") == len(raw) - pad)


def lift_bundle_objects(data: bytes) -> tuple[bytes, int]:
    """``data`` with each plain-base64 bundle-object payload replaced by a stand-in; how many were."""
    pieces: list[bytes] = []
    lifted = 0
    kept = 0  # data[:kept] is in pieces
    pos = data.find(_TYPE)
    while pos != -1 and lifted < _MAX_LIFTED:
        pos += len(_TYPE)
        m = _TO_PAYLOAD.match(data, pos)
        if m is not None:
            start = m.end()
            end = data.find(b'"', start)
            if end != -1 and plausible_base64(data[start:end]):
                pieces.append(data[kept:start])
                pieces.append(_STAND_IN % lifted)
                lifted += 1
                kept = pos = end
        pos = data.find(_TYPE, pos)
    if not lifted:
        return data, 0
    pieces.append(data[kept:])
    return b"".join(pieces), lifted


def stand_ins_in_place(docs: list[Any], lifted: int) -> bool:
    """Whether each of the ``lifted`` stand-ins is, exactly once, the payload of a bundle object."""
    found: set[str] = set()
    seen = 0
    for doc in docs:
        if type(doc) is not dict or doc.get("schema") != "olm.bundle" or not _BUNDLE_KEYS.issuperset(doc):
            continue
        props = doc.get("properties")
        if type(props) is not list:
            continue
        for prop in props:
            if type(prop) is not dict or len(prop) != 2 or prop.get("type") != "olm.bundle.object":
                continue
            value = prop.get("value")
            if type(value) is dict and len(value) == 1:
                payload = value.get("data")
                if type(payload) is str and payload.startswith(_SECRET):
                    found.add(payload)
                    seen += 1
    return seen == lifted == len(found)
