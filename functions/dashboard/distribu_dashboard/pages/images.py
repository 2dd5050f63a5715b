"""A product's image: see it, upload a new one straight to S3, remove it (``/dashboard/inventory/{id}/image``).

The file never passes through this function: the form posts it to S3 with a presigned POST, and S3 sends
the browser back to ``.../image/uploaded`` (``success_action_redirect``), which checks the stored object
and attaches it (:mod:`distribu.product_images`). The way back carries a MAC of the session and the
upload id, so a link cannot make someone else's browser attach anything. With JavaScript the page also
previews the chosen file and refuses a wrong type or size before it is sent (``uploads.js``); without
it the same form posts the file and the server's check gives the same messages.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu.errors import Conflict, Forbidden, ValidationError
from distribu.lazy import lazy_module
from distribu.web import security
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

catalog = lazy_module("distribu.catalog")  # pydantic models: loaded on the first image page
product_images = lazy_module("distribu.product_images")  # loaded on the first image page

IMAGE_URL = "/dashboard/inventory/{product_id}/image"


def _image_url(product_id: str) -> str:
    return IMAGE_URL.format(product_id=product_id)


def _return_token(page: DeskPage, upload_id: str) -> str:
    return security.csrf_token(f"image-upload:{page.csrf_token}:{upload_id}")


def _render(page: DeskPage, product_id: str, *, status: int = 200, form: Form | None = None) -> Response:
    staff = page.require_staff()
    product = catalog.get_product(staff.company_id, product_id)
    upload = product_images.start_upload(staff, product_id, return_url=lambda upload_id: page.absolute_url(
        f"{_image_url(product_id)}/uploaded?upload={upload_id}&token={_return_token(page, upload_id)}"))
    return page.render("images/edit.html", status=status, product=product, upload=upload,
                       form=form or Form(), wrong_type=product_images.WRONG_TYPE,
                       too_large=product_images.TOO_LARGE, accept=",".join(product_images.ACCEPT))


async def image_page(request: Request) -> Response:
    page, _ = open_desk(request)
    return _render(page, request.path_params["product_id"])


async def uploaded(request: Request) -> Response:
    """Where S3 sends the browser after storing the file: check it, attach it, back to the image page."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    product_id = request.path_params["product_id"]
    upload_id = request.query_params.get("upload", "")
    if not hmac.compare_digest(_return_token(page, upload_id), request.query_params.get("token", "")):
        raise Forbidden("This upload link is not yours or has expired. Choose the image again.")
    try:
        product_images.attach_upload(staff, product_id, upload_id)
    except (ValidationError, Conflict) as error:
        return _render(page, product_id, status=error.status_code, form=Form().take(error, fields=("image",)))
    return page.redirect(_image_url(product_id), flash="The image is saved. It shows in the storefront now.")


async def remove(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    product_id = request.path_params["product_id"]
    try:
        product_images.remove_image(staff, product_id, expected_url=form.text("imageUrl") or None)
    except (ValidationError, Conflict) as error:
        return _render(page, product_id, status=error.status_code, form=Form().take(error, fields=("image",)))
    return page.redirect(_image_url(product_id), flash="The image is removed and its file deleted.")


routes = [
    Route("/dashboard/inventory/{product_id:id}/image", image_page, methods=["GET"]),
    Route("/dashboard/inventory/{product_id:id}/image/uploaded", uploaded, methods=["GET"]),
    Route("/dashboard/inventory/{product_id:id}/image/remove", remove, methods=["POST"]),
]
