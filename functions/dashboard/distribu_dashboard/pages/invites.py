"""Accepting a team invitation: ``/invite/{token}``.

Someone new sets a name and a password; someone who already has a Distribu account (another company's
staff) joins by being signed in as that email or by typing its password. Either way the link is used up
and the person lands, signed in, in the company they joined. A link that expired, was withdrawn or was
used says so, and nothing else.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import sessions, staff_accounts, team
from distribu.errors import BusinessRuleViolation, ValidationError
from distribu.signin_throttle import TooManyAttempts
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

GONE = 410


def _render(page: DeskPage, token: str, offer: team.OpenInvitation | None, *, status: int = 200,
            form: Form | None = None, message: str | None = None) -> Response:
    signed_in_as = page.session.email if page.session else None
    return page.render("team/invite.html", status=status, token=token, offer=offer, form=form or Form(),
                       message=message, signed_in_as=signed_in_as)


def _welcome(page: DeskPage, user: staff_accounts.User, offer: team.OpenInvitation) -> Response:
    """Sign in to the company just joined (a session open in the browser, of whoever, is replaced)."""
    if page.session is not None:
        sessions.end(page.session)
    invitation = offer.invitation
    session = sessions.start_staff_session(user_id=user.id, email=user.email, name=user.name,
                                           company_id=invitation.company_id, role=invitation.role,
                                           companies=len(staff_accounts.memberships(user.email)))
    response = page.redirect("/dashboard", flash=f"Welcome to {offer.company.name}! You joined the team as "
                                                 f"{invitation.role.title()}.")
    page.start_session(response, session)
    return response


async def invitation(request: Request) -> Response:
    page, _ = open_desk(request, signed_in=False)
    token = request.path_params["token"]
    try:
        offer = team.open_invitation(token)
    except BusinessRuleViolation as error:
        return _render(page, token, None, status=GONE, message=error.message)
    return _render(page, token, offer)


async def accept(request: Request) -> Response:
    """New account: ``name`` and ``password``. Existing account: ``password`` (or nothing, when signed in
    as the invited email)."""
    page, _ = open_desk(request, signed_in=False)
    token = request.path_params["token"]
    form = await page.form()
    try:
        offer = team.open_invitation(token)
    except BusinessRuleViolation as error:
        return _render(page, token, None, status=GONE, message=error.message)
    email = offer.invitation.email
    try:
        if not offer.has_account:
            user, _ = team.accept_as_new_user(token, name=form.text("name"), password=form.get("password"))
            return _welcome(page, user, offer)
        if page.session is not None and page.session.email == email and not form.get("password"):
            user = staff_accounts.User(page.session.principal_id, email, page.session.name)
        else:
            user = staff_accounts.sign_in(email, form.get("password"))
        team.accept_as_user(token, user)
    except ValidationError as error:
        return _render(page, token, offer, status=400, form=form.take(error, fields=("name", "password")))
    except TooManyAttempts as error:
        return _render(page, token, offer, status=429, form=form.fail(error.message))
    except staff_accounts.SignInRefused:
        return _render(page, token, offer, status=401,
                       form=form.error("password", f"This is not the password of {email}."))
    except BusinessRuleViolation as error:
        return _render(page, token, offer, status=422, form=form.fail(error.message))
    return _welcome(page, user, offer)


routes = [
    Route("/invite/{token}", invitation, methods=["GET"]),
    Route("/invite/{token}", accept, methods=["POST"]),
]
