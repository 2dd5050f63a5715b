"""A company's team: its staff members, their roles, and invitations to join.

The rules (product spec, section 1) are checked here, in every verb, whatever page or request calls it:

- OWNER and ADMIN invite, as ADMIN or MEMBER (a company has exactly one OWNER: the user who signed up).
  The link ``/invite/{token}`` is valid for 7 days and works once; only the token's SHA-256 is stored.
- Only the OWNER changes a member's role, and never the owner's own (the owner stays the owner).
- The OWNER removes any member; an ADMIN removes MEMBERs only; nobody removes themselves or the owner.

Each changing verb also checks, inside its transaction, that the acting person still holds the role their
session says (a demotion a moment ago is not a window to act in). Membership is kept on both sides,
``C#{company}`` / ``MEMBER#{user}`` (the company's list) and ``USER#{email}`` / ``MEMBERSHIP#{company}``
(the user's companies), and every change writes both, with its audit entry, in one transaction. After a
role change the member's open sessions carry the new role at once; after a removal they end for this
company.

An invitation is two items written together: ``INVITE#{token hash}`` / ``COMPANY#{company}``, found from
the link before the invitee belongs anywhere, and the company's copy ``INVITATION#{id}`` that the team page
lists (it keeps the token's hash, so revoking deletes both). Both carry ``expiresAt``: the table's TTL
removes them some time after they lapse, and every read checks the time itself.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from distribu import audit, clock, companies, credentials, dynamo, ids, keys, passwords, sessions, staff_accounts
from distribu.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound, ValidationError
from distribu.permissions import Staff

INVITATION_TTL_SECONDS = 7 * 24 * 3600
INVITABLE_ROLES = ("ADMIN", "MEMBER")
ROLE_ORDER = {"OWNER": 0, "ADMIN": 1, "MEMBER": 2}
MEMBER_NOT_FOUND = "Member not found."
INVITATION_NOT_FOUND = "Invitation not found."
LINK_INVALID = "This invitation has expired, was withdrawn or has already been used. Ask for a new one."
ROLE_CHANGED = "Your role in this company has just changed. Reload the page and try again."
CHOOSE_ROLE = "Choose Admin or Member."


@dataclass(frozen=True)
class TeamMember:
    user_id: str
    email: str
    name: str
    role: str
    joined_at: str


@dataclass(frozen=True)
class Invitation:
    id: str
    company_id: str
    email: str
    role: str
    invited_by: str
    created_at: str
    expires_at: int

    @property
    def expires_on(self) -> str:
        return clock.from_timestamp(self.expires_at)


@dataclass(frozen=True)
class Team:
    members: list[TeamMember]
    invitations: list[Invitation]


@dataclass(frozen=True)
class OpenInvitation:
    """An invitation as its link shows it: the company, the role, and whether the email has an account."""

    invitation: Invitation
    company: companies.Company
    has_account: bool


def _problem(field: str, message: str) -> ValidationError:
    return ValidationError("Validation failed.", details=[{"field": field, "message": message}])


def _invitation(item: dict[str, Any], company_id: str) -> Invitation:
    return Invitation(item["id"], company_id, item["email"], item["role"], item.get("invitedBy") or "",
                      item["createdAt"], int(item["expiresAt"]))


def _open_invitations(company_id: str) -> list[Invitation]:
    now = time.time()
    items = dynamo.query_prefix(keys.company(company_id), "INVITATION#")
    return sorted((_invitation(item, company_id) for item in items if int(item.get("expiresAt", 0)) > now),
                  key=lambda invitation: invitation.created_at, reverse=True)


def _actor_still(staff: Staff) -> dict[str, Any]:
    """A condition on the actor's own membership: the role the session says, still held at the write."""
    return dynamo.condition_check(keys.company(staff.company_id), keys.member_sk(staff.user_id), "#role = :role",
                                  names={"#role": "role"}, values={":role": staff.role})


# --- reading --------------------------------------------------------------------------------------------

def team_of(staff: Staff) -> Team:
    """Everyone on the team (owner first, then admins, then members, by name) and the open invitations.
    Three round trips: the members, the invitations, and the members' names in one batch."""
    staff.require("view")
    members = companies.members(staff.company_id)
    invitations = _open_invitations(staff.company_id)
    profiles = dynamo.batch_get((keys.user_pk(member["email"]), keys.USER_PROFILE_SK) for member in members)
    team = []
    for member in members:
        profile = profiles.get((keys.user_pk(member["email"]), keys.USER_PROFILE_SK)) or {}
        team.append(TeamMember(member["userId"], member["email"], profile.get("name") or "", member["role"],
                               member.get("createdAt") or ""))
    team.sort(key=lambda member: (ROLE_ORDER.get(member.role, 9), (member.name or member.email).lower()))
    return Team(team, invitations)


def _member(company_id: str, user_id: str) -> dict[str, Any]:
    if not user_id or len(user_id) > 64:
        raise NotFound(MEMBER_NOT_FOUND)
    return dynamo.get_record(keys.company(company_id), keys.member_sk(user_id), "MEMBER", MEMBER_NOT_FOUND)


# --- inviting -------------------------------------------------------------------------------------------

def invite(staff: Staff, *, email: str, role: str) -> tuple[Invitation, str]:
    """Invite someone by email as ADMIN or MEMBER (OWNER and ADMIN only). Returns the invitation and the
    link's token, which exists nowhere else: the caller emails it (:func:`distribu.notifications.staff_invited`)
    once this has committed. Inviting an email that already has an open invitation replaces it (the older
    link stops working); inviting a member of the team is refused."""
    staff.require("team.invite")
    problems = []
    try:
        email = staff_accounts.check_email(email)
    except ValidationError as error:
        problems += error.extra["details"]
    if role not in INVITABLE_ROLES:
        problems.append({"field": "role", "message": CHOOSE_ROLE})
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    if dynamo.get(keys.user_pk(email), keys.membership_sk(staff.company_id)):
        raise _problem("email", "This email is already on the team.")
    replaced = [old for old in dynamo.query_prefix(keys.company(staff.company_id), "INVITATION#")
                if old["email"] == email]
    token = secrets.token_urlsafe(32)
    token_hash = credentials.token_hash(token)
    invitation_id = ids.new_id()
    now = clock.now_iso()
    expires = int(time.time()) + INVITATION_TTL_SECONDS
    common = {"entity": "INVITATION", "id": invitation_id, "companyId": staff.company_id, "email": email,
              "role": role, "invitedBy": staff.name or staff.email, "invitedById": staff.user_id,
              "createdAt": now, "expiresAt": expires}
    writes = [
        _actor_still(staff),
        dynamo.put({"PK": keys.invitation_pk(token_hash), "SK": keys.invitation_sk(staff.company_id), **common},
                   condition="attribute_not_exists(PK)"),
        dynamo.put({"PK": keys.company(staff.company_id), "SK": keys.pending_invitation_sk(invitation_id),
                    "tokenHash": token_hash, **common}),
        audit.entry(staff.company_id, staff.actor(), "TeamMemberInvited", "User", invitation_id,
                    {"email": email, "role": role}, at=now),
    ]
    for old in replaced:
        writes += [dynamo.delete(old["PK"], old["SK"]),
                   dynamo.delete(keys.invitation_pk(old["tokenHash"]), keys.invitation_sk(staff.company_id))]
    try:
        dynamo.transact(writes)
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise Forbidden(ROLE_CHANGED) from None
        raise Conflict("The invitation could not be saved right now; try again.") from None
    return _invitation(common, staff.company_id), token


def revoke_invitation(staff: Staff, invitation_id: str) -> Invitation:
    """Withdraw an open invitation (whoever may invite may withdraw): its link stops working at once."""
    staff.require("team.invite")
    if not invitation_id or len(invitation_id) > 64:
        raise NotFound(INVITATION_NOT_FOUND)
    item = dynamo.get_record(keys.company(staff.company_id), keys.pending_invitation_sk(invitation_id), "INVITATION",
                             INVITATION_NOT_FOUND)
    invitation = _invitation(item, staff.company_id)
    try:
        dynamo.transact([
            _actor_still(staff),
            dynamo.delete(item["PK"], item["SK"], condition="attribute_exists(PK)"),
            dynamo.delete(keys.invitation_pk(item["tokenHash"]), keys.invitation_sk(staff.company_id)),
            audit.entry(staff.company_id, staff.actor(), "TeamInvitationRevoked", "User", invitation_id,
                        {"email": invitation.email, "role": invitation.role}),
        ])
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise Forbidden(ROLE_CHANGED) from None
        raise NotFound(INVITATION_NOT_FOUND) from None
    return invitation


# --- accepting ------------------------------------------------------------------------------------------

def _invitation_item(token: str) -> dict[str, Any] | None:
    if not token or len(token) > 200:
        return None
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.invitation_pk(credentials.token_hash(token))}}, ConsistentRead=True)
    items = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    live = [item for item in items if item.get("entity") == "INVITATION" and int(item.get("expiresAt", 0)) > time.time()]
    return live[0] if live else None


def open_invitation(token: str) -> OpenInvitation:
    """What an invitation link offers, or :data:`LINK_INVALID` (422) for one that expired, was withdrawn
    or was used: the three read the same, and say nothing about the company."""
    item = _invitation_item(token)
    if item is None:
        raise BusinessRuleViolation(LINK_INVALID)
    found = dynamo.batch_get([(keys.company(item["companyId"]), keys.COMPANY_SK),
                              (keys.user_pk(item["email"]), keys.USER_PROFILE_SK)])
    company_item = found.get((keys.company(item["companyId"]), keys.COMPANY_SK))
    if company_item is None:
        raise BusinessRuleViolation(LINK_INVALID)
    return OpenInvitation(_invitation(item, item["companyId"]), companies.Company.from_item(company_item),
                          (keys.user_pk(item["email"]), keys.USER_PROFILE_SK) in found)


def _joining(item: dict[str, Any], user_id: str, now: str) -> list[dict[str, Any]]:
    """The invitation's two items go, the membership's two sides come: one transaction's writes (the
    first is conditioned on the link being unused and unexpired)."""
    company_id, email, role = item["companyId"], item["email"], item["role"]
    return [
        dynamo.delete(item["PK"], item["SK"], condition="attribute_exists(PK) AND expiresAt > :now",
                      values={":now": int(time.time())}),
        dynamo.delete(keys.company(company_id), keys.pending_invitation_sk(item["id"])),
        dynamo.put({"PK": keys.company(company_id), "SK": keys.member_sk(user_id), "entity": "MEMBER",
                    "userId": user_id, "email": email, "role": role, "createdAt": now},
                   condition="attribute_not_exists(PK)"),
        dynamo.put({"PK": keys.user_pk(email), "SK": keys.membership_sk(company_id), "entity": "MEMBERSHIP",
                    "companyId": company_id, "role": role, "createdAt": now}, condition="attribute_not_exists(PK)"),
    ]


def accept_as_new_user(token: str, *, name: str, password: str) -> tuple[staff_accounts.User, Invitation]:
    """Accept an invitation whose email has no Distribu account yet: the user (with this name and
    password) and its membership are created together, and the link is used up."""
    name, password = credentials.collect((credentials.check_name, (name,)), (credentials.check_password, (password,)))
    item = _invitation_item(token)
    if item is None:
        raise BusinessRuleViolation(LINK_INVALID)
    user_id = ids.new_id()
    now = clock.now_iso()
    writes = _joining(item, user_id, now) + [
        dynamo.put({"PK": keys.user_pk(item["email"]), "SK": keys.USER_PROFILE_SK, "entity": "USER", "id": user_id,
                    "email": item["email"], "name": name, "passwordHash": passwords.hash_password(password),
                    "createdAt": now}, condition="attribute_not_exists(PK)"),
        audit.entry(item["companyId"], audit.Actor("USER", user_id, name), "TeamMemberJoined", "User", user_id,
                    {"email": item["email"], "role": item["role"]}, at=now),
    ]
    try:
        dynamo.transact(writes)
    except dynamo.TransactionCancelled as cancelled:
        failed = cancelled.failed_indexes()
        if 0 in failed:
            raise BusinessRuleViolation(LINK_INVALID) from None
        raise BusinessRuleViolation(f"{item['email']} has a Distribu account now: enter its password to join.") from None
    return staff_accounts.User(user_id, item["email"], name), _invitation(item, item["companyId"])


def accept_as_user(token: str, user: staff_accounts.User) -> Invitation:
    """Accept an invitation as the existing user it was sent to (signed in, or who just gave its password):
    the membership is added and the link is used up."""
    item = _invitation_item(token)
    if item is None:
        raise BusinessRuleViolation(LINK_INVALID)
    if item["email"] != user.email:
        raise Forbidden(f"This invitation is for {item['email']}. Sign in as {item['email']} to accept it.")
    now = clock.now_iso()
    writes = _joining(item, user.id, now) + [
        audit.entry(item["companyId"], audit.Actor("USER", user.id, user.name or user.email), "TeamMemberJoined",
                    "User", user.id, {"email": item["email"], "role": item["role"]}, at=now)]
    try:
        dynamo.transact(writes)
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise BusinessRuleViolation(LINK_INVALID) from None
        raise BusinessRuleViolation("You are already on this team.") from None
    return _invitation(item, item["companyId"])


# --- roles and removal ----------------------------------------------------------------------------------

def _role_change_refusal(staff: Staff, user_id: str, role: str) -> str | None:
    if not staff.can("team.role"):
        return "Only the owner can change a member's role."
    if user_id == staff.user_id:
        return "You cannot change your own role."
    if role == "OWNER":
        return "The owner's role cannot be changed."
    return None


def _removal_refusal(staff: Staff, user_id: str, role: str) -> str | None:
    if not staff.can("team.remove"):
        return "Only owners and admins can remove team members."
    if user_id == staff.user_id:
        return "You cannot remove yourself from the team."
    if role == "OWNER":
        return "The owner cannot be removed."
    if staff.role != "OWNER" and role != "MEMBER":
        return "Admins can remove members only; ask the owner to remove an admin."
    return None


def can_change_role(staff: Staff, member: TeamMember) -> bool:
    """Whether the team page offers ``staff`` a role change for ``member`` (the verb decides again)."""
    return _role_change_refusal(staff, member.user_id, member.role) is None


def can_remove(staff: Staff, member: TeamMember) -> bool:
    """Whether the team page offers ``staff`` to remove ``member`` (the verb decides again)."""
    return _removal_refusal(staff, member.user_id, member.role) is None


def change_role(staff: Staff, user_id: str, role: str) -> TeamMember:
    """Make a member ADMIN or MEMBER (the OWNER only; never the owner's own role). Takes effect in the
    member's open sessions at once."""
    staff.require("team.role")
    if role not in INVITABLE_ROLES:
        raise _problem("role", CHOOSE_ROLE)
    member = _member(staff.company_id, user_id)
    refusal = _role_change_refusal(staff, user_id, member["role"])
    if refusal:
        raise Forbidden(refusal)
    if member["role"] == role:
        return TeamMember(user_id, member["email"], "", role, member.get("createdAt") or "")
    pk = keys.company(staff.company_id)
    try:
        dynamo.transact([
            _actor_still(staff),
            dynamo.update(pk, keys.member_sk(user_id), "SET #role = :role", condition="#role = :before",
                          names={"#role": "role"}, values={":role": role, ":before": member["role"]}),
            dynamo.update(keys.user_pk(member["email"]), keys.membership_sk(staff.company_id), "SET #role = :role",
                          condition="attribute_exists(PK)", names={"#role": "role"}, values={":role": role}),
            audit.entry(staff.company_id, staff.actor(), "TeamMemberRoleChanged", "User", user_id,
                        {"email": member["email"], "before": {"role": member["role"]}, "after": {"role": role}}),
        ])
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise Forbidden(ROLE_CHANGED) from None
        raise Conflict("This member was changed or removed meanwhile; reload the page and try again.") from None
    sessions.set_staff_role(user_id, staff.company_id, role)
    return TeamMember(user_id, member["email"], "", role, member.get("createdAt") or "")


def remove_member(staff: Staff, user_id: str) -> TeamMember:
    """Take a member off the team (the OWNER anyone; an ADMIN members only; nobody themselves or the
    owner). Their sessions in this company end at once; their Distribu account stays (other companies)."""
    staff.require("team.remove")
    member = _member(staff.company_id, user_id)
    refusal = _removal_refusal(staff, user_id, member["role"])
    if refusal:
        raise Forbidden(refusal)
    try:
        dynamo.transact([
            _actor_still(staff),
            dynamo.delete(keys.company(staff.company_id), keys.member_sk(user_id), condition="#role = :role",
                          names={"#role": "role"}, values={":role": member["role"]}),
            dynamo.delete(keys.user_pk(member["email"]), keys.membership_sk(staff.company_id)),
            audit.entry(staff.company_id, staff.actor(), "TeamMemberRemoved", "User", user_id,
                        {"email": member["email"], "role": member["role"]}),
        ])
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise Forbidden(ROLE_CHANGED) from None
        raise Conflict("This member was changed or removed meanwhile; reload the page and try again.") from None
    sessions.end_user_sessions(user_id, company_id=staff.company_id)
    return TeamMember(user_id, member["email"], "", member["role"], member.get("createdAt") or "")
