"""The team page and invitations through the real dashboard handler: inviting, accepting (new and existing
users), role changes and removals with their rules, withdrawn, used and expired links, CSRF, and what each
role is refused."""

from __future__ import annotations

import re
import time
from typing import Any

from tests import factories
from tests.dashboard.conftest import sent_mail, signed_in
from tests.web_client import Browser

TEAM = "/dashboard/settings/team"
OWNER = factories.owner_email("Acme Distributors")


def _invite_link(stack: Any, email: str) -> str:
    mail = next(message for message in reversed(sent_mail(stack)) if email in message.destinations["ToAddresses"])
    return re.search(r"/invite/[A-Za-z0-9_-]+", mail.body).group(0)


def _audit_actions(company_id: str) -> list[str]:
    from distribu import audit

    return [entry["action"] for entry in audit.list_entries(company_id)]


def _roles(company_id: str) -> dict[str, str]:
    """Both sides of every membership, which must agree: email -> role."""
    from distribu import companies, dynamo, keys

    members = {member["email"]: member["role"] for member in companies.members(company_id)}
    for email, role in members.items():
        assert dynamo.get(keys.user_pk(email), keys.membership_sk(company_id))["role"] == role, email
    return members


def _invitation_count(company_id: str) -> int:
    from distribu import team

    return len(team.team_of(factories.staff_of(company_id)).invitations)


def test_owner_invites_and_a_new_person_joins_with_the_link(owner: Browser, tenant, stack) -> None:
    page = owner.get(TEAM)
    assert page.status == 200 and "Invite someone" in page.text and OWNER in page.text
    sent = owner.post(TEAM, {"email": " New.Admin@Acme.test ", "role": "ADMIN"})
    assert sent.status == 303 and sent.location == TEAM
    listed = owner.follow(sent)
    assert "We emailed new.admin@acme.test an invitation to join as Admin" in listed.text
    assert "Open invitations" in listed.text and "new.admin@acme.test" in listed.text
    link = _invite_link(stack, "new.admin@acme.test")
    token = link.rsplit("/", 1)[1]
    mail = sent_mail(stack)[-1]
    assert mail.subject == "Join Acme Distributors on Distribu" and "valid for 7 days, once" in mail.body
    # only the token's hash is kept
    from distribu import dynamo

    scanned = dynamo.dynamodb().scan(TableName=dynamo.table_name())["Items"]
    assert token not in str(scanned)

    newcomer = Browser(stack)
    offer = newcomer.get(link)
    assert offer.status == 200
    assert "invited new.admin@acme.test to the Acme Distributors team as Admin" in offer.text
    bad = newcomer.post(link, {"name": "A", "password": "short"})
    assert bad.status == 400
    assert bad.field_error("name") == "Name must be 2–100 characters."
    assert bad.field_error("password") == "Password must be 8–100 characters."
    joined = newcomer.post(link, {"name": "Ada Admin", "password": "ada-password-1"})
    assert joined.status == 303 and joined.location == "/dashboard"
    home = newcomer.follow(joined)
    assert "Welcome to Acme Distributors! You joined the team as Admin." in home.text and "Admin" in home.text
    assert _roles(tenant.company_id) == {OWNER: "OWNER", "new.admin@acme.test": "ADMIN"}
    assert {"TeamMemberInvited", "TeamMemberJoined"} <= set(_audit_actions(tenant.company_id))
    assert _invitation_count(tenant.company_id) == 0

    again = Browser(stack).get(link)
    assert again.status == 410
    assert "This invitation has expired, was withdrawn or has already been used. Ask for a new one." in again.text
    assert "Acme" not in again.text
    assert Browser(stack).post(link, {"name": "Eve", "password": "eve-password-1"}, csrf=None).status == 403
    reused = Browser(stack)
    reused.get("/login")  # a page with a form, for a valid CSRF token (the used link's page has none)
    assert reused.post(link, {"name": "Eve Again", "password": "eve-password-1"}).status == 410
    assert _roles(tenant.company_id) == {OWNER: "OWNER", "new.admin@acme.test": "ADMIN"}


def test_invite_errors_are_shown_under_their_fields_and_nothing_is_sent(owner: Browser, tenant, stack) -> None:
    before = len(sent_mail(stack))
    bad = owner.post(TEAM, {"email": "not-an-email", "role": "OWNER"})
    assert bad.status == 400
    assert bad.field_error("email") == "Enter a valid email address."
    assert bad.field_error("role") == "Choose Admin or Member."
    assert bad.value_of("email") == "not-an-email"
    member = owner.post(TEAM, {"email": OWNER, "role": "MEMBER"})
    assert member.status == 400 and member.field_error("email") == "This email is already on the team."
    assert len(sent_mail(stack)) == before and _invitation_count(tenant.company_id) == 0


def test_inviting_again_replaces_the_open_invitation(owner: Browser, tenant, stack) -> None:
    owner.post(TEAM, {"email": "twice@acme.test", "role": "MEMBER"})
    first = _invite_link(stack, "twice@acme.test")
    owner.get(TEAM)
    owner.post(TEAM, {"email": "twice@acme.test", "role": "ADMIN"})
    second = _invite_link(stack, "twice@acme.test")
    assert first != second and _invitation_count(tenant.company_id) == 1
    assert Browser(stack).get(first).status == 410
    assert "as Admin" in Browser(stack).get(second).text


def test_an_existing_distribu_user_joins_with_its_password_or_its_session(owner: Browser, tenant, other_tenant,
                                                                          stack) -> None:
    globex_owner = factories.owner_email("Globex Wholesale")
    owner.post(TEAM, {"email": globex_owner, "role": "MEMBER"})
    link = _invite_link(stack, globex_owner)
    visitor = Browser(stack)
    offer = visitor.get(link)
    assert f"{globex_owner} already has a Distribu account. Enter its password to join." in offer.text
    assert offer.soup.find(attrs={"name": "name"}) is None
    wrong = visitor.post(link, {"password": "not-the-password"})
    assert wrong.status == 401 and wrong.field_error("password") == f"This is not the password of {globex_owner}."
    joined = visitor.post(link, {"password": factories.STAFF_PASSWORD})
    assert joined.status == 303
    assert "Welcome to Acme Distributors! You joined the team as Member." in visitor.follow(joined).text
    assert "Switch company" in visitor.get("/dashboard").text
    assert _roles(tenant.company_id)[globex_owner] == "MEMBER"
    assert _roles(other_tenant.company_id)[globex_owner] == "OWNER"

    # signed in as the invited email: one button
    factories.staff_member(other_tenant.company_id, "gina@globex.test", role="ADMIN", name="Gina Globex")
    gina = signed_in(stack, "gina@globex.test")
    owner.get(TEAM)
    owner.post(TEAM, {"email": "gina@globex.test", "role": "ADMIN"})
    link = _invite_link(stack, "gina@globex.test")
    page = gina.get(link)
    assert "You are signed in as gina@globex.test." in page.text and "Join Acme Distributors" in page.text
    assert gina.post(link, {}).status == 303
    assert _roles(tenant.company_id)["gina@globex.test"] == "ADMIN"


def test_signed_in_as_someone_else_the_invitation_says_so(owner: Browser, tenant, stack) -> None:
    owner.post(TEAM, {"email": "fresh@acme.test", "role": "MEMBER"})
    link = _invite_link(stack, "fresh@acme.test")
    page = owner.get(link)
    assert f"You are signed in as {OWNER}. This invitation is for fresh@acme.test" in page.text
    joined = owner.post(link, {"name": "Fresh Face", "password": "fresh-password-1"})
    assert joined.status == 303
    assert "Fresh Face" in owner.follow(joined).text  # now signed in as the invitee


def test_an_expired_or_withdrawn_link_says_so(owner: Browser, tenant, stack) -> None:
    from distribu import dynamo

    owner.follow(owner.post(TEAM, {"email": "late@acme.test", "role": "MEMBER"}))
    late = _invite_link(stack, "late@acme.test")
    table = dynamo.dynamodb()
    for raw in table.scan(TableName=dynamo.table_name())["Items"]:
        if raw.get("entity", {}).get("S") == "INVITATION" and raw["email"]["S"] == "late@acme.test":
            table.update_item(TableName=dynamo.table_name(), Key={"PK": raw["PK"], "SK": raw["SK"]},
                              UpdateExpression="SET expiresAt = :past",
                              ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}})
    assert Browser(stack).get(late).status == 410
    expired = Browser(stack)
    expired.get("/login")
    assert expired.post(late, {"name": "Late Comer", "password": "late-password-1"}).status == 410
    assert "late@acme.test" not in owner.get(TEAM).text  # not listed as open

    owner.post(TEAM, {"email": "withdrawn@acme.test", "role": "MEMBER"})
    link = _invite_link(stack, "withdrawn@acme.test")
    page = owner.get(TEAM)
    form = page.soup.find("form", action=re.compile(r"/invitations/\w+/revoke"))
    revoked = owner.post(form["action"])
    assert revoked.status == 303
    assert "The invitation of withdrawn@acme.test is withdrawn" in owner.follow(revoked).text
    assert Browser(stack).get(link).status == 410
    assert "TeamInvitationRevoked" in _audit_actions(tenant.company_id)
    assert set(_roles(tenant.company_id)) == {OWNER}


def test_role_changes_are_the_owners_and_reach_open_sessions_at_once(owner: Browser, tenant, stack) -> None:
    user = factories.staff_member(tenant.company_id, "mo@acme.test", name="Mo Member")
    mo = signed_in(stack, "mo@acme.test")
    assert "Invite someone" not in mo.get(TEAM).text
    owner.get(TEAM)
    promoted = owner.post(f"{TEAM}/members/{user.id}/role", {"role": "ADMIN"})
    assert promoted.status == 303 and "mo@acme.test is now Admin." in owner.follow(promoted).text
    assert _roles(tenant.company_id)["mo@acme.test"] == "ADMIN"
    assert "Invite someone" in mo.get(TEAM).text  # the open session carries the new role
    assert "TeamMemberRoleChanged" in _audit_actions(tenant.company_id)

    owner_id = factories.staff_of(tenant.company_id).user_id
    assert owner.post(f"{TEAM}/members/{owner_id}/role", {"role": "MEMBER"}).status == 403
    assert mo.post(f"{TEAM}/members/{owner_id}/role", {"role": "MEMBER"}).status == 403
    bad = owner.post(f"{TEAM}/members/{user.id}/role", {"role": "OWNER"})
    assert bad.status == 400 and bad.field_error(f"member-{user.id}-role") == "Choose Admin or Member."
    assert _roles(tenant.company_id) == {OWNER: "OWNER", "mo@acme.test": "ADMIN"}


def test_removal_rules_and_the_removed_person_is_signed_out(owner: Browser, tenant, stack) -> None:
    admin = factories.staff_member(tenant.company_id, "ann@acme.test", role="ADMIN", name="Ann Admin")
    other_admin = factories.staff_member(tenant.company_id, "abe@acme.test", role="ADMIN", name="Abe Admin")
    member = factories.staff_member(tenant.company_id, "max@acme.test", name="Max Member")
    owner_id = factories.staff_of(tenant.company_id).user_id
    ann, max_ = signed_in(stack, "ann@acme.test"), signed_in(stack, "max@acme.test")

    page = ann.get(TEAM)
    removable = {form["action"] for form in page.soup.find_all("form", action=re.compile("/remove$"))}
    assert removable == {f"{TEAM}/members/{member.id}/remove"}  # an admin sees Remove for members only
    for target in (other_admin.id, owner_id, admin.id):
        assert ann.post(f"{TEAM}/members/{target}/remove").status == 403, target
    assert max_.post(f"{TEAM}/members/{member.id}/remove").status == 403
    assert owner.post(f"{TEAM}/members/{owner_id}/remove").status == 403
    assert len(_roles(tenant.company_id)) == 4

    removed = ann.post(f"{TEAM}/members/{member.id}/remove")
    assert removed.status == 303
    assert "max@acme.test is no longer on the team and was signed out." in ann.follow(removed).text
    assert max_.get("/dashboard").status == 302  # the open session ended
    owner.get(TEAM)
    assert owner.post(f"{TEAM}/members/{other_admin.id}/remove").status == 303
    assert set(_roles(tenant.company_id)) == {OWNER, "ann@acme.test"}
    assert _audit_actions(tenant.company_id).count("TeamMemberRemoved") == 2
    from distribu import staff_accounts

    assert staff_accounts.user_by_email("max@acme.test")  # the account stays; only the membership went


def test_a_member_sees_the_team_and_every_change_is_refused(owner: Browser, tenant, stack) -> None:
    member = factories.staff_member(tenant.company_id, "mia@acme.test", name="Mia Member")
    factories.staff_member(tenant.company_id, "mel@acme.test", name="Mel Member")
    owner.post(TEAM, {"email": "open@acme.test", "role": "MEMBER"})
    invitation_id = re.search(r"/invitations/(\w+)/revoke", owner.get(TEAM).html).group(1)
    mia = signed_in(stack, "mia@acme.test")
    page = mia.get(TEAM)
    assert page.status == 200 and "mel@acme.test" in page.text and "open@acme.test" in page.text
    assert "Invite someone" not in page.text and "Remove" not in page.text and "Withdraw" not in page.text
    mel_id = factories.staff_of(tenant.company_id, "mel@acme.test").user_id
    mails = len(sent_mail(stack))
    for path, body in ((TEAM, {"email": "x@acme.test", "role": "MEMBER"}),
                       (f"{TEAM}/members/{mel_id}/role", {"role": "ADMIN"}),
                       (f"{TEAM}/members/{mel_id}/remove", {}),
                       (f"{TEAM}/invitations/{invitation_id}/revoke", {})):
        refused = mia.post(path, body)
        assert refused.status == 403, path
    assert "Only owners and admins can invite team members." in mia.post(TEAM, {"email": "x@acme.test",
                                                                                "role": "MEMBER"}).text
    assert len(sent_mail(stack)) == mails and _invitation_count(tenant.company_id) == 1
    assert _roles(tenant.company_id) == {OWNER: "OWNER", "mia@acme.test": "MEMBER", "mel@acme.test": "MEMBER"}
    assert member.id != mel_id


def test_every_team_form_refuses_a_missing_csrf_token(owner: Browser, tenant, stack) -> None:
    member = factories.staff_member(tenant.company_id, "csrf@acme.test")
    owner.post(TEAM, {"email": "pending@acme.test", "role": "MEMBER"})
    invitation_id = re.search(r"/invitations/(\w+)/revoke", owner.get(TEAM).html).group(1)
    for path, body in ((TEAM, {"email": "x@acme.test", "role": "MEMBER"}),
                       (f"{TEAM}/members/{member.id}/role", {"role": "ADMIN"}),
                       (f"{TEAM}/members/{member.id}/remove", {}),
                       (f"{TEAM}/invitations/{invitation_id}/revoke", {})):
        for token in (None, "forged"):
            refused = owner.post(path, body, csrf=token)
            assert refused.status == 403 and "This form has expired" in refused.text, path
    assert _roles(tenant.company_id)["csrf@acme.test"] == "MEMBER" and _invitation_count(tenant.company_id) == 1


def test_ids_that_are_not_ours_are_404(owner: Browser, tenant, other_tenant, stack) -> None:
    theirs = factories.staff_member(other_tenant.company_id, "their.member@globex.test")
    owner.get(TEAM)
    for path in (f"{TEAM}/members/{theirs.id}/role", f"{TEAM}/members/{theirs.id}/remove"):
        response = owner.post(path, {"role": "ADMIN"})
        assert response.status == 404 and "their.member" not in response.text, path
    assert owner.post(f"{TEAM}/members/not-an-id/remove").status == 404
    assert _roles(other_tenant.company_id)["their.member@globex.test"] == "MEMBER"
