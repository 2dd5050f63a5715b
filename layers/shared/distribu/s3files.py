"""Streaming CSV files to and from S3 in constant memory.

Reading wraps botocore's ``StreamingBody`` in a text layer, so a 20 MB upload is parsed as it arrives.
Writing buffers one part (8 MiB) at a time and sends it as a multipart upload; a file smaller than one
part is a single ``PutObject``. Nothing ever holds a whole file.
"""

from __future__ import annotations

import csv
import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, TextIO

from distribu.aws import client

PART_BYTES = 8 * 1024 * 1024  # S3's minimum part is 5 MiB
TEXT_BUFFER = 256 * 1024


def s3() -> Any:
    return client("s3")


def endpoint() -> str:
    """The S3 endpoint the functions are pointed at (the local stack's), or "" for AWS's own."""
    return (os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/")


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def post_origins(buckets: tuple[str, ...]) -> tuple[str, ...]:
    """The origins browsers post presigned uploads to for these buckets (a page's CSP ``form-action`` and
    ``connect-src``), computed from the environment without creating a client: the local endpoint, else
    each bucket's global and regional virtual-hosted S3 addresses."""
    local = endpoint()
    if local:
        match = re.match(r"^[a-z]+://[^/]+", local)
        return (match.group(0),) if match else ()
    origins: list[str] = []
    for bucket in buckets:
        origins += [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region()}.amazonaws.com"]
    return tuple(dict.fromkeys(origins))


@dataclass(frozen=True)
class OpenedObject:
    text: TextIO
    etag: str
    size: int


def open_text(bucket: str, key: str) -> OpenedObject:
    """The object as a text stream (UTF-8, an Excel BOM skipped), read as it arrives."""
    response = s3().get_object(Bucket=bucket, Key=key)
    # Bytes that are not UTF-8 become U+FFFD, so the rows holding them are named instead of the read failing.
    text = io.TextIOWrapper(response["Body"], encoding="utf-8-sig", errors="replace", newline="")
    return OpenedObject(text, response["ETag"], int(response.get("ContentLength", 0)))


class S3Writer(io.RawIOBase):
    """A writable binary stream that lands in S3 as one object when closed (multipart past one part)."""

    def __init__(self, bucket: str, key: str, *, content_type: str = "text/csv; charset=utf-8",
                 content_disposition: str | None = None) -> None:
        super().__init__()
        self.bucket = bucket
        self.key = key
        self.extra: dict[str, str] = {"ContentType": content_type}
        if content_disposition:
            self.extra["ContentDisposition"] = content_disposition
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.size = 0
        self.aborted = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.aborted:
            return len(data)
        chunk = bytes(data)
        self.buffer += chunk
        self.size += len(chunk)
        if len(self.buffer) >= PART_BYTES:
            self._send_part()
        return len(chunk)

    def _send_part(self) -> None:
        if self.upload_id is None:
            self.upload_id = s3().create_multipart_upload(Bucket=self.bucket, Key=self.key, **self.extra)["UploadId"]
        number = len(self.parts) + 1
        response = s3().upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number,
                                    Body=bytes(self.buffer))
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self.buffer = bytearray()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self.aborted:
                return
            if self.upload_id is None:
                s3().put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), **self.extra)
            else:
                if self.buffer:
                    self._send_part()
                s3().complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                               MultipartUpload={"Parts": self.parts})
        finally:
            self.buffer = bytearray()
            super().close()

    def abort(self) -> None:
        """Forget everything written: no object, no dangling multipart upload."""
        self.aborted = True
        if self.upload_id is not None:
            upload_id, self.upload_id = self.upload_id, None
            s3().abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)


class CsvUpload:
    """``csv.writer`` rows straight into an :class:`S3Writer`. ``rows`` counts what was written."""

    def __init__(self, bucket: str, key: str, *, content_disposition: str | None = None) -> None:
        self.raw = S3Writer(bucket, key, content_disposition=content_disposition)
        self.text = io.TextIOWrapper(io.BufferedWriter(self.raw, TEXT_BUFFER), encoding="utf-8", newline="")
        self.writer = csv.writer(self.text)
        self.rows = 0

    def write(self, row: list[Any] | tuple[Any, ...]) -> None:
        self.writer.writerow(row)
        self.rows += 1

    def finish(self) -> None:
        self.text.close()

    def abort(self) -> None:
        self.raw.aborted = True  # what is still buffered drains into nothing; closing uploads nothing
        self.text.close()
        self.raw.abort()


@contextmanager
def csv_upload(bucket: str, key: str, *, content_disposition: str | None = None) -> Iterator[CsvUpload]:
    """Write CSV rows to S3; the object exists only if the block finishes without an exception."""
    upload = CsvUpload(bucket, key, content_disposition=content_disposition)
    try:
        yield upload
    except BaseException:
        upload.abort()
        raise
    upload.finish()


def download_url(bucket: str, key: str, *, file_name: str, expires_in: int) -> str:
    """A presigned GET that saves as ``file_name``."""
    return s3().generate_presigned_url(
        "get_object", ExpiresIn=expires_in,
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": f'attachment; filename="{file_name}"'})


def delete_prefix(bucket: str, prefix: str) -> int:
    """Delete every object whose key starts with ``prefix`` (a page of up to 1,000 per request); returns how
    many. Run again, it finds what a failed page left."""
    deleted = 0
    for page in s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if not objects:
            continue
        answer = s3().delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        if answer.get("Errors"):
            raise RuntimeError(f"S3 kept {len(answer['Errors'])} objects under {bucket}/{prefix}: "
                               f"{answer['Errors'][0].get('Code')}")
        deleted += len(objects)
    return deleted
