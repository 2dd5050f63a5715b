"""Scheduled reports: a report emailed, with its file attached, on a cadence, to a list of addresses.

The rules:

- A schedule names a report (``SALES``, ``CUSTOMER_SPEND``, ``INVENTORY_VALUATION`` or ``ORDERS_EXPORT``,
  the last in the ``summary`` or ``line-items`` layout), a file format (``csv`` or ``pdf``), a cadence
  (``DAILY`` at an hour, ``WEEKLY`` on a ``dayOfWeek`` 1-7, Monday first, ``MONTHLY`` on a ``dayOfMonth``
  1-28, all at the hour, UTC), 1-20 recipients (any email addresses) and whether it is active.
- Only OWNERs and ADMINs list, create, edit, pause, resume and delete schedules (checked here, on every
  verb); each change is audited in the same transaction.
- A report covers the whole UTC days before its due day: a daily one the day before, a weekly one the
  7 days before, a monthly one from the same day of the previous month; inventory is valued as it is.
- Each schedule stores its next due time, and an active schedule is indexed by it (GSI2, partition
  ``REPORTS#DUE``, sorted by due time): a runner finds what is due with one Query, never a Scan of all
  companies. A paused schedule leaves the index.
- A due time is sent at most once: a runner claims it with one conditional transaction that moves the
  schedule's due time on (condition: it still holds the due time read) and creates the run item
  ``REPORTRUN#{schedule}#{due}`` (condition: it does not exist). Concurrent runners cannot both win.
- A failed attempt is retried once, a few minutes later (the run item enters the index at its retry
  time and is claimed again, conditionally); when the retry fails too, the company's OWNER is emailed.
  Every attempt is audited with the ``SYSTEM`` actor. Missed due times (a runner down for days) are not
  caught up: the next due time is always the first one after now.
- A runner that dies between claiming and finishing leaves its run ``RUNNING``: it is never sent again
  automatically (at most once, not at least once).
"""

from distribu.scheduled_reports.runner import Run, RunSummary, claim_retry, claim_schedule, deliver, due, run_due
from distribu.scheduled_reports.schedules import (CADENCES, DAY_NAMES, FORMATS, MODE_LABELS, MODES, NOT_FOUND,
                                                  REPORT_LABELS, REPORT_TYPES, Schedule, ScheduleInput, check,
                                                  create_schedule, default_title, delete_schedule, get_schedule,
                                                  list_schedules, next_due, parse_recipients, period, runs_of,
                                                  set_active, update_schedule)

__all__ = [
    "CADENCES", "DAY_NAMES", "FORMATS", "MODE_LABELS", "MODES", "NOT_FOUND", "REPORT_LABELS", "REPORT_TYPES", "Run",
    "RunSummary", "Schedule", "ScheduleInput", "check", "claim_retry", "claim_schedule", "create_schedule",
    "default_title", "delete_schedule", "deliver", "due", "get_schedule", "list_schedules", "next_due",
    "parse_recipients", "period", "run_due", "runs_of", "set_active", "update_schedule",
]
