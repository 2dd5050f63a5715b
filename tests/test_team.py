"""Team rules the pages cannot reach: a session's stale role, an invitation taken by the wrong user."""

from __future__ import annotations

import dataclasses

import pytest

from distribu import errors
from tests import factories


def test_a_role_lost_a_moment_ago_cannot_be_used(tenant) -> None:
    from distribu import team

    factories.staff_member(tenant.company_id, "was.admin@acme.test", role="ADMIN")
    member = factories.staff_member(tenant.company_id, "target@acme.test")
    stale = factories.staff_of(tenant.company_id, "was.admin@acme.test")
    owner = factories.staff_of(tenant.company_id)
    team.change_role(owner, stale.user_id, "MEMBER")  # the session would follow; this Staff is the old view
    with pytest.raises(errors.Forbidden) as refused:
        team.invite(stale, email="sneaky@acme.test", role="ADMIN")
    assert refused.value.message == team.ROLE_CHANGED
    with pytest.raises(errors.Forbidden):
        team.remove_member(stale, member.id)
    current = team.team_of(owner)
    assert not current.invitations and {m.email for m in current.members} >= {"target@acme.test"}


def test_a_forged_owner_role_changes_nothing(tenant) -> None:
    from distribu import team

    member = factories.staff_member(tenant.company_id, "mallory@acme.test")
    victim = factories.staff_member(tenant.company_id, "victim@acme.test")
    forged = dataclasses.replace(factories.staff_of(tenant.company_id, "mallory@acme.test"), role="OWNER")
    with pytest.raises(errors.Forbidden):
        team.remove_member(forged, victim.id)
    with pytest.raises(errors.Forbidden):
        team.change_role(forged, victim.id, "ADMIN")
    roles = {m.email: m.role for m in team.team_of(factories.staff_of(tenant.company_id)).members}
    assert roles["victim@acme.test"] == roles["mallory@acme.test"] == "MEMBER" and member.id


def test_an_invitation_is_accepted_only_by_its_email(tenant, other_tenant) -> None:
    from distribu import staff_accounts, team

    _, token = team.invite(factories.staff_of(tenant.company_id), email="right@acme.test", role="MEMBER")
    wrong = staff_accounts.sign_in(factories.owner_email("Globex Wholesale"), factories.STAFF_PASSWORD)
    with pytest.raises(errors.Forbidden):
        team.accept_as_user(token, wrong)
    assert team.open_invitation(token).invitation.email == "right@acme.test"
