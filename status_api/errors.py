"""The API's errors: each carries its HTTP status and IIB's exact message, served as ``{"error": msg}``."""

from __future__ import annotations


class ApiError(Exception):
    """An error the API answers with ``{"error": message}`` and ``status_code``."""

    status_code = 500
    headers: dict[str, str] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ApiError):
    """Bad input: 400."""

    status_code = 400


class Unauthorized(ApiError):
    """No identity where one is needed: 401, with the challenge HTTP requires (a bearer token)."""

    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="IIB"'}


class Forbidden(ApiError):
    """An identity without the right: 403."""

    status_code = 403


class NotFound(ApiError):
    """404 with IIB's fixed text."""

    status_code = 404

    def __init__(self, message: str = "The requested resource was not found") -> None:
        super().__init__(message)


class UnsupportedMediaType(ApiError):
    """A body that is not sent as JSON where JSON is required: 415."""

    status_code = 415


class Gone(ApiError):
    """Expired artifacts: 410."""

    status_code = 410


class ServerError(ApiError):
    """A failure of ours that the user cannot fix: 500."""

    status_code = 500


UNAUTHORIZED_TEXT = (
    "The server could not verify that you are authorized to access the URL requested. You either"
    " supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how"
    " to supply the credentials required."
)
