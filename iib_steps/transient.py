"""Which network failures are worth another try: not a host name that does not exist."""

from __future__ import annotations

# getaddrinfo's answers for a name that does not exist (glibc, musl, macOS); "Temporary failure in
# name resolution" (EAI_AGAIN) is not among them: that one may pass, and is retried.
_NO_SUCH_HOST = ("Name or service not known", "No address associated with hostname", "nodename nor servname")


def unknown_host(exc: BaseException) -> bool:
    """True for a connection error saying the host name does not exist (never worth a retry)."""
    text = str(exc)
    return any(marker in text for marker in _NO_SUCH_HOST)
