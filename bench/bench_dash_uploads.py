"""Dashboard uploads: the import progress fragment (polled every second while an import runs) and the
product image attach, through the real dashboard handler against a moto server, in the same run as their
baselines.

- Progress poll: DynamoDB round trips and server time for an import of 50 rows and one of 5,000 rows
  (goal: the same round trips, time ratio ~1.0x: a poll reads one record whatever the file's size), and
  its time as a ratio to the dashboard home page (its own three round trips) measured alongside.
- Image attach (the way back from S3): S3 requests and DynamoDB round trips, and its time as a ratio to a
  plain product edit (``catalog.update_product``) in the same run. The attach checks the stored object
  (HeadObject, a 64-byte ranged GetObject), copies it to its public key, deletes the upload, writes the
  product conditioned on the image it replaces, and deletes the replaced image.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from common import RoundTrips, median, moto_stack, report, seed_tenant

RUNS = 15
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9ccd`\xf8\xff\x1f\x00\x03\x02\x01\xff x\xbfF\xb5\x00\x00\x00\x00IEND\xaeB`\x82")


class S3Requests:
    def __init__(self) -> None:
        from distribu.s3files import s3

        self.count = 0
        s3().meta.events.register("before-send.s3", self._count)

    def _count(self, **_: Any) -> None:
        self.count += 1


def dashboard(path: str, cookie: str, query: str = "") -> tuple[float, dict[str, Any]]:
    from distribu_dashboard.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event("GET", path, query=query, headers={"cookie": cookie, "host": "127.0.0.1:3000"},
                           route_key="GET /dashboard/{proxy+}")
    started = time.perf_counter()
    result = lambda_handler(event, LambdaContext(function_name="dashboard"))
    elapsed = time.perf_counter() - started
    assert result["statusCode"] in (200, 303), (path, result["statusCode"], result.get("body", "")[:500])
    return elapsed, result


def previewed_import(company_id: str, rows: int) -> str:
    """An import of ``rows`` products, uploaded and previewed by the csv_import routines."""
    from distribu import audit, imports, s3files
    from distribu.config import get_settings

    view = imports.create_import(company_id, "products", audit.Actor("SYSTEM", "bench", "bench"))
    body = "sku,name,price,stock\n" + "".join(f"P-{rows}-{n:06d},Item {n},{n % 90}.50,{n % 400}\n" for n in range(rows))
    s3files.s3().put_object(Bucket=get_settings().imports_bucket,
                            Key=imports.upload_key(company_id, "products", view["id"]), Body=body.encode())
    assert imports.validate(company_id, view["id"], owner="bench") == imports.DONE
    assert imports.get_item(company_id, view["id"])["status"] == "READY"
    return view["id"]


def main() -> None:
    with moto_stack():
        from distribu import catalog, companies, product_images, sessions, staff_accounts
        from distribu.aws import client
        from distribu.config import get_settings

        tenant = seed_tenant(products=60)
        company = tenant["company"]
        owner = next(member for member in companies.members(company.id) if member["role"] == "OWNER")
        session = sessions.start_staff_session(user_id=owner["userId"], email=owner["email"], name="Bench owner",
                                               company_id=company.id, role="OWNER")
        cookie = f"staff_session={session.raw_id}"
        staff = staff_accounts.staff_for(session)
        trips, s3_requests = RoundTrips(), S3Requests()
        rows: list[tuple[str, str]] = []

        small, big = previewed_import(company.id, 50), previewed_import(company.id, 5_000)
        progress = {name: f"/dashboard/inventory/import/{import_id}/progress"
                    for name, import_id in (("small", small), ("big", big))}
        for path in (*progress.values(), "/dashboard"):
            dashboard(path, cookie)  # warm
        times: dict[str, list[float]] = {"small": [], "big": [], "home": []}
        counted: dict[str, int] = {}
        for run in range(RUNS):
            order = ("small", "big", "home") if run % 2 == 0 else ("home", "big", "small")
            for name in order:
                before = trips.count
                elapsed, _ = dashboard(progress.get(name, "/dashboard"), cookie)
                counted[name] = trips.count - before
                times[name].append(elapsed)
        rows.append(("progress poll: round trips", f"{counted['small']} at 50 rows / {counted['big']} at 5,000 rows "
                                                   f"(home page: {counted['home']})"))
        rows.append(("progress poll: 5,000 vs 50 rows", f"{median(times['big']) / median(times['small']):.2f}x "
                                                        f"({median(times['small']) * 1000:.1f} ms / "
                                                        f"{median(times['big']) * 1000:.1f} ms)"))
        rows.append(("progress poll vs home page", f"{median(times['small']) / median(times['home']):.2f}x "
                                                   f"(home {median(times['home']) * 1000:.1f} ms)"))

        product_id = tenant["product_ids"][0]
        attach_times, edit_times, attach_trips, attach_s3 = [], [], 0, 0
        bucket = get_settings().images_bucket
        for run in range(RUNS):
            form = product_images.start_upload(staff, product_id, return_url=lambda upload_id: "http://x/" + upload_id)
            client("s3").put_object(Bucket=bucket, Key=form.fields["key"], Body=PNG)
            before_trips, before_s3 = trips.count, s3_requests.count
            started = time.perf_counter()
            product_images.attach_upload(staff, product_id, form.upload_id)
            attach_times.append(time.perf_counter() - started)
            attach_trips, attach_s3 = trips.count - before_trips, s3_requests.count - before_s3
            started = time.perf_counter()
            catalog.update_product(company.id, product_id, {"name": f"Product renamed {run}"}, staff.actor())
            edit_times.append(time.perf_counter() - started)
        listed = client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
        rows.append(("image attach (replacing one)", f"{attach_trips} DynamoDB round trips, {attach_s3} S3 requests"))
        rows.append(("image attach vs a plain edit", f"{median(attach_times) / median(edit_times):.2f}x "
                                                     f"({median(attach_times) * 1000:.1f} ms / "
                                                     f"{median(edit_times) * 1000:.1f} ms)"))
        rows.append(("objects left after 15 replacements", f"{len(listed)} (the current image only)"))
        report("Dashboard uploads (moto server, same-run baselines)", rows)


if __name__ == "__main__":
    sys.exit(main())
