"""Per-request logs and related-bundles files: a local folder (default) or an S3 bucket (boto3).

Keys follow IIB: ``request_logs/<id>.log``, ``related_bundles/<id>_related_bundles.json``,
``recursive_related_bundles/<id>_recursive_related_bundles.json``. Nothing is ever deleted here;
expiry only turns "missing" into 410 Gone.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from status_api.settings import Settings


@dataclass(frozen=True)
class Kind:
    """One kind of artifact: where it lives and how it is named."""

    name: str
    folder: str
    suffix: str
    media_type: str

    def filename(self, request_id: int) -> str:
        return f"{request_id}{self.suffix}"


LOGS = Kind("logs", "request_logs", ".log", "text/plain")
RELATED_BUNDLES = Kind("related_bundles", "related_bundles", "_related_bundles.json", "application/json")
NESTED_BUNDLES = Kind(
    "nested-bundles", "recursive_related_bundles", "_recursive_related_bundles.json", "application/json"
)


class Storage(Protocol):
    def get(self, kind: Kind, request_id: int) -> bytes | None: ...
    def put(self, kind: Kind, request_id: int, content: bytes) -> None: ...


class LocalStorage:
    """Files in folders (IIB_REQUEST_LOGS_DIR and friends); a kind without a folder is not configured."""

    def __init__(self, folders: dict[str, str | None]) -> None:
        self.folders = folders

    def configured(self, kind: Kind) -> bool:
        return bool(self.folders.get(kind.name))

    def _path(self, kind: Kind, request_id: int) -> Path:
        return Path(self.folders[kind.name] or "") / kind.filename(request_id)

    def get(self, kind: Kind, request_id: int) -> bytes | None:
        try:
            return self._path(kind, request_id).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, kind: Kind, request_id: int, content: bytes) -> None:
        path = self._path(kind, request_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)


class S3Storage:
    """Objects in one S3 bucket, keys as IIB names them."""

    def __init__(self, bucket: str, endpoint_url: str | None = None) -> None:
        import boto3

        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def configured(self, kind: Kind) -> bool:
        return True

    def get(self, kind: Kind, request_id: int) -> bytes | None:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=f"{kind.folder}/{kind.filename(request_id)}"
            )
        except self.client.exceptions.NoSuchKey:
            return None
        return response["Body"].read()

    def put(self, kind: Kind, request_id: int, content: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=f"{kind.folder}/{kind.filename(request_id)}",
            Body=content,
            ContentType=kind.media_type,
        )


def storage_from_settings(settings: Settings) -> LocalStorage | S3Storage:
    """S3 when a bucket is named (IIB uses S3 xor local folders), else the local folders."""
    if settings.IIB_AWS_S3_BUCKET_NAME:
        return S3Storage(settings.IIB_AWS_S3_BUCKET_NAME, settings.IIB_AWS_S3_ENDPOINT_URL)
    return LocalStorage(
        {
            LOGS.name: settings.IIB_REQUEST_LOGS_DIR,
            RELATED_BUNDLES.name: settings.IIB_REQUEST_RELATED_BUNDLES_DIR,
            NESTED_BUNDLES.name: settings.IIB_REQUEST_RECURSIVE_RELATED_BUNDLES_DIR,
        }
    )
