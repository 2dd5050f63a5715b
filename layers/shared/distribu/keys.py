"""Item keys of the single table. Every tenant item's partition starts from its company.

The only partitions that do not are global lookups that exist before a company is known: a slug
(storefront URLs), a staff user's email (sign-in) and an API key's hash (authentication).
"""

from __future__ import annotations


def company(company_id: str) -> str:
    return f"C#{company_id}"


COMPANY_SK = "COMPANY"


def slug_guard(slug: str) -> tuple[str, str]:
    return f"SLUG#{slug}", "SLUG"


def user_pk(email: str) -> str:
    return f"USER#{email.strip().lower()}"


USER_PROFILE_SK = "PROFILE"


def member_sk(user_id: str) -> str:
    return f"MEMBER#{user_id}"


def membership_sk(company_id: str) -> str:
    return f"MEMBERSHIP#{company_id}"


def product_sk(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def sku_guard_sk(sku: str) -> str:
    """SKUs are unique per company regardless of case: ``wdg-1`` and ``WDG-1`` are the same SKU."""
    return f"SKU#{sku.strip().lower()}"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


API_KEY_SK = "APIKEY"


def api_key_pointer_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def audit_sk(timestamp: str, entry_id: str) -> str:
    return f"AUDIT#{timestamp}#{entry_id}"


def event_sk(timestamp: str, event_id: str) -> str:
    return f"EVENT#{timestamp}#{event_id}"


def listing(company_id: str, kind: str) -> str:
    """GSI1 partition listing one kind of record of a company, newest first."""
    return f"C#{company_id}#{kind}"


def listing_sort(created_at: str, record_id: str) -> str:
    return f"{created_at}#{record_id}"


def id_from_listing_sort(sort_key: str) -> str:
    return sort_key.rsplit("#", 1)[-1]


def customer_sk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def email_guard_sk(email: str) -> str:
    return f"EMAIL#{email}"


def price_override_sk(customer_id: str, product_id: str) -> str:
    return f"PRICE#{customer_id}#{product_id}"


def price_overrides_prefix(customer_id: str) -> str:
    return f"PRICE#{customer_id}#"


def overrides_of_product(company_id: str, product_id: str) -> str:
    """GSI1 partition of every customer's override of one product (cleaned up with the product)."""
    return f"C#{company_id}#PRICE#{product_id}"


def order_sk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def customer_orders(company_id: str, customer_id: str) -> str:
    """GSI2 partition: one customer's orders, newest first."""
    return f"C#{company_id}#CUSTOMER#{customer_id}#ORDER"


def idempotency_sk(key_id: str, idempotency_key: str) -> str:
    return f"IDEMPOTENCY#{key_id}#{idempotency_key}"


def webhook_sk(webhook_id: str) -> str:
    return f"WEBHOOK#{webhook_id}"


def delivery_sk(delivery_id: str) -> str:
    return f"DELIVERY#{delivery_id}"


def webhook_deliveries(company_id: str, webhook_id: str) -> str:
    """GSI1 partition: one webhook's deliveries, newest first."""
    return f"C#{company_id}#WEBHOOK#{webhook_id}#DELIVERY"


def low_stock_mail_sk(event_id: str) -> str:
    return f"LOWSTOCKMAIL#{event_id}"


def contact_sk(customer_id: str, contact_id: str) -> str:
    return f"CONTACT#{customer_id}#{contact_id}"


def contacts_prefix(customer_id: str) -> str:
    return f"CONTACT#{customer_id}#"


def contact_guard_sk(customer_id: str, email: str) -> str:
    """A contact's email is unique among its customer's contacts."""
    return f"CONTACTEMAIL#{customer_id}#{email}"


def contacts_by_email(company_id: str, email: str) -> str:
    """GSI1 partition: every contact of any customer with this email (storefront sign-in)."""
    return f"C#{company_id}#CONTACTEMAIL#{email}"


def account_token_sk(token_hash: str) -> str:
    """A single-use emailed link (set or reset a storefront password)."""
    return f"TOKEN#{token_hash}"


def address_book_sk(customer_id: str) -> str:
    """A customer account's shipping addresses, all in one item."""
    return f"ADDRESSBOOK#{customer_id}"


def cart_sk(customer_id: str, principal_id: str) -> str:
    """One cart per signed-in person (a customer or one of its contacts)."""
    return f"CART#{customer_id}#{principal_id}"


def orders_placed_by(company_id: str, principal_id: str) -> str:
    """GSI3 partition: the orders one storefront person placed, newest first."""
    return f"C#{company_id}#PLACEDBY#{principal_id}#ORDER"


def staff_token_pk(token_hash: str) -> str:
    """A single-use emailed link for a staff user (reset a password); global, like the user it serves."""
    return f"STAFFTOKEN#{token_hash}"


def invitation_pk(token_hash: str) -> str:
    """A team invitation, found by its link's token before the invitee belongs to the company."""
    return f"INVITE#{token_hash}"


def invitation_sk(company_id: str) -> str:
    return f"COMPANY#{company_id}"


def pending_invitation_sk(invitation_id: str) -> str:
    """The company's own copy of an open invitation (listed on the team page)."""
    return f"INVITATION#{invitation_id}"


def report_schedule_sk(schedule_id: str) -> str:
    """A scheduled report of the company (what, how often, to whom)."""
    return f"REPORTSCHEDULE#{schedule_id}"


def report_run_sk(schedule_id: str, due_at: str) -> str:
    """One due time of a scheduled report: written once, when a runner claims that due time."""
    return f"REPORTRUN#{schedule_id}#{due_at}"


# GSI2 partition of everything a scheduled-reports runner must act on, sorted by when: active schedules by
# their next due time, and failed runs by their retry time. Global (like a slug), as the runner serves
# every company; the sort key names the company.
REPORTS_DUE = "REPORTS#DUE"


def reports_due_sort(due_at: str, company_id: str, record_id: str) -> str:
    return f"{due_at}#{company_id}#{record_id}"


def customers_by_status(company_id: str, status: str) -> str:
    """GSI2 partition: a company's customers of one status (ACTIVE, BLOCKED), newest first."""
    return f"C#{company_id}#CUSTOMERSTATUS#{status}"
