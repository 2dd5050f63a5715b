"""The team page: members and their roles, open invitations, inviting, role changes and removal.

Every verb checks the role table itself (:mod:`distribu.team`); the page only hides what a role cannot do.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import notifications, team
from distribu.errors import ValidationError
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

TEAM_URL = "/dashboard/settings/team"
ROLE_CHOICES = (("MEMBER", "Member"), ("ADMIN", "Admin"))


def _render(page: DeskPage, status: int = 200, invite_form: Form | None = None,
            role_form: tuple[str, Form] | None = None) -> Response:
    """The page; ``invite_form`` or one member's ``role_form`` (user id, form) shown again with its errors."""
    staff = page.require_staff()
    current = team.team_of(staff)
    rows = []
    for member in current.members:
        form = role_form[1] if role_form and role_form[0] == member.user_id else Form({"role": member.role})
        rows.append({"member": member, "can_change_role": team.can_change_role(staff, member),
                     "can_remove": team.can_remove(staff, member),
                     "role_form": form.prefixed(f"member-{member.user_id}-")})
    return page.render("team/index.html", status=status, rows=rows, invitations=current.invitations,
                       invite_form=invite_form or Form({"role": "MEMBER"}), role_choices=ROLE_CHOICES,
                       can_invite=staff.can("team.invite"))


async def team_page(request: Request) -> Response:
    page, _ = open_desk(request)
    return _render(page)


async def invite(request: Request) -> Response:
    """POST ``email`` and ``role``: the invitation is saved, then emailed with its 7-day link."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    try:
        invitation, token = team.invite(staff, email=form.text("email"), role=form.text("role"))
    except ValidationError as error:
        return _render(page, 400, invite_form=form.take(error, fields=("email", "role")))
    assert page.company is not None
    notifications.staff_invited(page.company.name, email=invitation.email, role=invitation.role,
                                url=page.absolute_url(f"/invite/{token}"), invited_by=staff.name or staff.email)
    return page.redirect(TEAM_URL, flash=f"We emailed {invitation.email} an invitation to join as "
                                         f"{invitation.role.title()}. The link works once, for 7 days.")


async def change_role(request: Request) -> Response:
    """POST ``role`` (ADMIN or MEMBER) for one member: the owner only."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    user_id = request.path_params["user_id"]
    try:
        member = team.change_role(staff, user_id, form.text("role"))
    except ValidationError as error:
        return _render(page, 400, role_form=(user_id, form.take(error, fields=("role",))))
    return page.redirect(TEAM_URL, flash=f"{member.email} is now {member.role.title()}.")


async def remove(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    member = team.remove_member(staff, request.path_params["user_id"])
    return page.redirect(TEAM_URL, flash=f"{member.email} is no longer on the team and was signed out.")


async def revoke(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    invitation = team.revoke_invitation(staff, request.path_params["invitation_id"])
    return page.redirect(TEAM_URL, flash=f"The invitation of {invitation.email} is withdrawn; its link no "
                                         "longer works.")


routes = [
    Route(TEAM_URL, team_page, methods=["GET"]),
    Route(TEAM_URL, invite, methods=["POST"]),
    Route(TEAM_URL + "/members/{user_id:id}/role", change_role, methods=["POST"]),
    Route(TEAM_URL + "/members/{user_id:id}/remove", remove, methods=["POST"]),
    Route(TEAM_URL + "/invitations/{invitation_id:id}/revoke", revoke, methods=["POST"]),
]
