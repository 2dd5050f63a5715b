"""Product images: one per product, uploaded from the dashboard straight to S3, checked, then attached.

The rules (product spec section 2, the seed "Product images"):

- JPG, PNG, WebP or AVIF, judged by the file's first bytes (never its name or the type the browser
  declares), at most 5 MB. Anything else is refused with exactly ``Only JPG, PNG, WebP, and AVIF images
  are allowed.`` or ``Image too large. Maximum size is 5 MB.``
- A 5 MB file cannot pass through a Lambda (6 MB payload, base64): the browser posts it to S3 with a
  presigned POST whose policy names the exact key, the size range and an ``image/`` content type.
  S3 in the cloud enforces that policy; the local stack (moto) enforces none of it, so the server
  checks every stored object itself before using it (:func:`attach_upload`). That check is what
  protects the product anywhere.
- Uploads land under ``uploads/{company}/{product}/{upload}`` (private: the bucket is public only under
  ``images/``). Once checked, the bytes are copied to ``images/{company}/{product}/{image}.{ext}`` with
  the type the bytes say and a year-long immutable cache, and the upload is deleted. Every image gets
  a new key, so its public URL never changes and never shows another picture. An upload that fails the
  check is deleted at once; one never brought back is swept by the bucket's lifecycle rule.
- Replacing or removing deletes the old object in the same step: the product write is conditioned on
  the image the person started from (:func:`distribu.catalog.update_product` ``expect``), and after it
  commits the replaced object is deleted (:func:`forget`). When two people replace the same image at
  once, one write wins; the loser's new object is deleted and they are told. Exactly one object stays.
- Only objects under the product's own prefix are ever deleted on its behalf: an ``imageUrl`` set by the
  API to another product's (or another company's) image never lets a change here delete that image.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from distribu import catalog, clock, ids, s3files
from distribu.config import get_settings
from distribu.errors import Conflict, NotFound, ValidationError
from distribu.permissions import Staff

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
WRONG_TYPE = "Only JPG, PNG, WebP, and AVIF images are allowed."
TOO_LARGE = "Image too large. Maximum size is 5 MB."
NOT_ARRIVED = "The upload did not arrive or has expired. Choose the image again."
CHANGED_MEANWHILE = ("Someone else changed this product's image at the same time. Yours was not kept: look at "
                     "the image now and upload again if it should be yours.")
NO_IMAGE = "This product has no image to remove."
UPLOAD_EXPIRES_SECONDS = 15 * 60
SNIFF_BYTES = 64
CACHE_FOREVER = "public, max-age=31536000, immutable"
# The type the browser declares must be an image/ type (the policy says so); what the bytes are decides.
DECLARED_TYPE_PREFIX = "image/"
DEFAULT_DECLARED_TYPE = "image/*"  # the form's value when no script has read the file's own type
ACCEPT = ("image/jpeg", "image/png", "image/webp", "image/avif")  # the file picker's hint only
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/avif": "avif"}
_UPLOAD_ID = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")

_PNG = b"\x89PNG\r\n\x1a\n"
_AVIF_BRANDS = (b"avif", b"avis")


def sniff(head: bytes) -> str | None:
    """The image type the first bytes of a file prove, or None (web.md: ~20 lines of magic bytes).

    JPEG ``FF D8 FF``; PNG's 8-byte signature; ``RIFF....WEBP``; ISO-BMFF (``....ftyp``) with ``avif`` or
    ``avis`` as its major brand or among its compatible brands (animated AVIF is ``avis``; a ``mif1``
    file that lists ``avif`` is AVIF too).
    """
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == _PNG:
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 16 and head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[:4], "big")
        end = min(len(head), box_size if box_size >= 16 else len(head))
        brands = [head[8:12]] + [head[offset:offset + 4] for offset in range(16, end - 3, 4)]
        if any(brand in _AVIF_BRANDS for brand in brands):
            return "image/avif"
    return None


# --- where things live -----------------------------------------------------------------------------------

def _uploads_of(company_id: str) -> str:
    return f"uploads/{company_id}/"


def _images_of(company_id: str) -> str:
    return f"images/{company_id}/"


def upload_key(company_id: str, product_id: str, upload_id: str) -> str:
    return f"{_uploads_of(company_id)}{product_id}/{upload_id}"


def image_prefix(company_id: str, product_id: str) -> str:
    return f"{_images_of(company_id)}{product_id}/"


def company_files(company_id: str) -> list[tuple[str, str]]:
    """(bucket, key prefix) of every file kept for the company here: its images and unchecked uploads."""
    bucket = get_settings().images_bucket
    return [(bucket, _images_of(company_id)), (bucket, _uploads_of(company_id))]


def public_base_url() -> str:
    """Where the images bucket is read publicly: ``IMAGES_BASE_URL`` when set (a CDN), else the S3 endpoint
    the functions use (the local stack's), else the bucket's regional S3 address."""
    settings = get_settings()
    if settings.images_base_url:
        return settings.images_base_url
    endpoint = s3files.endpoint()
    if endpoint:
        return f"{endpoint}/{settings.images_bucket}"
    return f"https://{settings.images_bucket}.s3.{s3files.region()}.amazonaws.com"


def public_url(key: str) -> str:
    return f"{public_base_url()}/{key}"


def hosted_key(company_id: str, product_id: str, url: str | None) -> str | None:
    """The object key of ``url`` when it is one of this product's hosted images, else None."""
    base = public_base_url() + "/"
    if not url or not url.startswith(base):
        return None
    key, prefix = url[len(base):], image_prefix(company_id, product_id)
    return key if key.startswith(prefix) and re.fullmatch(r"[0-9a-z]+\.[a-z]+", key[len(prefix):]) else None


def upload_origins() -> tuple[str, ...]:
    """The origins a browser posts uploads to (images and imports buckets): see :func:`s3files.post_origins`."""
    settings = get_settings()
    return s3files.post_origins((settings.images_bucket, settings.imports_bucket))


# --- the verbs -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadForm:
    """What the upload form needs: where to post, the signed fields (before the file), the limits."""

    upload_id: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_at: str


def start_upload(staff: Staff, product_id: str, *, return_url: Callable[[str], str]) -> UploadForm:
    """A presigned POST for one new image of the product. ``return_url(upload_id)`` (absolute) is where S3
    sends the browser after storing the file (``success_action_redirect``, fixed by the policy)."""
    staff.require("catalog")
    catalog.get_item(staff.company_id, product_id)  # another company's product: 404
    upload_id = ids.new_id()
    return _presigned(staff.company_id, product_id, upload_id, return_url(upload_id))


def _presigned(company_id: str, product_id: str, upload_id: str, return_url: str) -> UploadForm:
    settings = get_settings()
    key = upload_key(company_id, product_id, upload_id)
    fields = {"Content-Type": DEFAULT_DECLARED_TYPE, "success_action_redirect": return_url}
    conditions: list[Any] = [
        ["content-length-range", 1, MAX_BYTES],
        ["starts-with", "$Content-Type", DECLARED_TYPE_PREFIX],
        {"success_action_redirect": return_url},
    ]
    post = s3files.s3().generate_presigned_post(settings.images_bucket, key, Fields=fields, Conditions=conditions,
                                                ExpiresIn=UPLOAD_EXPIRES_SECONDS)
    expires = clock.iso(clock.now() + timedelta(seconds=UPLOAD_EXPIRES_SECONDS))
    return UploadForm(upload_id, post["url"], dict(post["fields"]), MAX_BYTES, expires)


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, details=[{"field": "image", "message": message}])


def _delete(key: str) -> None:
    try:
        s3files.s3().delete_object(Bucket=get_settings().images_bucket, Key=key)
    except Exception:  # noqa: BLE001 - a failed clean-up must not hide what happened; the lifecycle sweeps uploads
        logger.exception("Could not delete %s", key)


def _missing(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in ("404", "NoSuchKey", "NotFound", "PreconditionFailed", "412")


def attach_upload(staff: Staff, product_id: str, upload_id: str) -> dict[str, Any]:
    """Check the stored upload (size from HeadObject, type from its first bytes), make it the product's
    image and delete the one it replaces. A refused upload is deleted and nothing else changes."""
    staff.require("catalog")
    if not _UPLOAD_ID.fullmatch(upload_id or ""):
        raise NotFound(NOT_ARRIVED)
    company_id = staff.company_id
    current = catalog.get_item(company_id, product_id)
    bucket = get_settings().images_bucket
    key = upload_key(company_id, product_id, upload_id)
    client = s3files.s3()
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as error:
        if _missing(error):
            raise _refuse(NOT_ARRIVED) from None
        raise
    size, etag = int(head.get("ContentLength") or 0), head["ETag"]
    if size > MAX_BYTES:
        _delete(key)
        raise _refuse(TOO_LARGE)
    try:
        first = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}",
                                  IfMatch=etag)["Body"].read() if size else b""
    except client.exceptions.ClientError as error:
        if _missing(error):  # replaced or gone since HeadObject
            raise _refuse(NOT_ARRIVED) from None
        raise
    content_type = sniff(first)
    if content_type is None:
        _delete(key)
        raise _refuse(WRONG_TYPE)
    image_key = f"{image_prefix(company_id, product_id)}{ids.new_id()}.{EXTENSIONS[content_type]}"
    try:
        client.copy_object(Bucket=bucket, Key=image_key, CopySource={"Bucket": bucket, "Key": key},
                           CopySourceIfMatch=etag, MetadataDirective="REPLACE", ContentType=content_type,
                           CacheControl=CACHE_FOREVER)
    except client.exceptions.ClientError as error:
        if _missing(error):  # replaced under us after the check: check the new one instead
            raise _refuse(NOT_ARRIVED) from None
        raise
    finally:
        _delete(key)
    try:
        return catalog.update_product(company_id, product_id, {"imageUrl": public_url(image_key)}, staff.actor(),
                                      expect={"imageUrl": current.get("imageUrl")},
                                      changed_message=CHANGED_MEANWHILE)
    except BaseException:
        _delete(image_key)  # the loser of a race (or a failed write) leaves nothing behind
        raise


def remove_image(staff: Staff, product_id: str, *, expected_url: str | None = None) -> dict[str, Any]:
    """Clear the product's image and delete its object (when we host it). ``expected_url``: the image the
    person saw; if it changed meanwhile, nothing is removed."""
    staff.require("catalog")
    current = catalog.get_item(staff.company_id, product_id)
    url = current.get("imageUrl")
    if not url:
        raise _refuse(NO_IMAGE)
    if expected_url is not None and expected_url != url:
        raise Conflict(CHANGED_MEANWHILE)
    return catalog.update_product(staff.company_id, product_id, {"imageUrl": None}, staff.actor(),
                                  expect={"imageUrl": url}, changed_message=CHANGED_MEANWHILE)


def forget(company_id: str, product_id: str, url: str | None) -> None:
    """After a product's ``imageUrl`` moved away from ``url`` (replaced, removed, product deleted): delete
    the object when it is one of this product's hosted images."""
    key = hosted_key(company_id, product_id, url)
    if key:
        _delete(key)

