"""Go's ``base64.StdEncoding.DecodeString`` acceptance rules, for base64 text found in manifests.

Go skips carriage returns and line feeds anywhere in the input (a CSV icon written as a YAML block
scalar has one every 76 characters or so), but accepts nothing else outside the alphabet, and
padding must be complete and last.
"""

from __future__ import annotations

import binascii


def std_decode(text: str) -> bytes | None:
    """The bytes Go decodes from ``text``, or None where Go reports an error."""
    cleaned = text.replace("\r", "").replace("\n", "") if ("\n" in text or "\r" in text) else text
    if not cleaned.isascii():
        return None
    try:
        return binascii.a2b_base64(cleaned, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
