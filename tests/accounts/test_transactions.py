"""The accounts' service functions leave the commit to their caller: a caller that rolls back
keeps nothing of them (a view that fails after them, a flow that refuses half-way)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cloud.accounts import service
from cloud.accounts.models import AuditEntry, LoginThrottle, Staff, StaffSession
from cloud.accounts.settings import AccountSettings
from cloud.registry import load_registry
from tests.accounts.conftest import NOW, PASSWORD, make_app

SETTINGS = AccountSettings()


@pytest.fixture
def sessions(tmp_path, migrated_file):
    """The sessionmaker of an app's fresh migrated SQLite store."""
    return make_app(tmp_path, NOW, migrated_file).state.sessionmaker


def rows(sessions, model) -> int:
    """How many rows of ``model`` the store holds, read in a session of its own."""
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def committed_staff(sessions) -> int:
    """The id of a member of staff with a password, committed."""
    with sessions() as session:
        staff = service.create_staff(session, load_registry(), username="adv-porvoo",
                                     display_name="A", role="advisor", sites=["porvoo"],
                                     password=PASSWORD, now=NOW)
        session.commit()
        return staff.id


def test_staff_created_and_audited_by_a_caller_that_rolls_back_do_not_stay(sessions):
    with sessions() as session:
        service.create_staff(session, load_registry(), username="adv-porvoo", display_name="A",
                             role="advisor", sites=["porvoo"], password=PASSWORD, now=NOW)
        service.audit(session, actor="admin", action="staff.manage", outcome="allowed", now=NOW)
        session.rollback()
    assert rows(sessions, Staff) == rows(sessions, AuditEntry) == 0


def test_a_login_whose_caller_rolls_back_leaves_no_session_audit_or_throttle(sessions):
    staff_id = committed_staff(sessions)
    with sessions() as session:
        held = service.take_login_slots(session, SETTINGS, username="adv-porvoo",
                                        client="192.0.2.1", now=NOW)
        found = service.authenticate(session, username="adv-porvoo", password=PASSWORD,
                                     client="192.0.2.1", held=held, now=NOW)
        service.open_session(session, SETTINGS, staff=found, method="password",
                             client="192.0.2.1", now=NOW)
        found_id = found.id
        session.rollback()
    assert found_id == staff_id
    assert rows(sessions, StaffSession) == rows(sessions, AuditEntry) == 0
    assert rows(sessions, LoginThrottle) == 0


def test_a_session_ended_or_a_password_set_by_a_caller_that_rolls_back_stays_as_it_was(
        sessions):
    staff_id = committed_staff(sessions)
    with sessions() as session:
        login = service.open_session(session, SETTINGS, staff=session.get(Staff, staff_id), method="password",
                                     client=None, now=NOW)
        session.commit()
    for change in (
            lambda s: service.close_session(s, token=login.token),
            lambda s: service.set_password(s, staff=s.get(Staff, staff_id),
                                           password="another long password"),
            lambda s: service.resolve_session(s, SETTINGS, token=login.token,
                                              now=NOW + timedelta(days=2))):  # expired
        with sessions() as session:
            change(session)
            session.rollback()
    assert rows(sessions, StaffSession) == 1
    with sessions() as session:
        assert service.resolve_session(session, SETTINGS, token=login.token,
                                       now=NOW + timedelta(minutes=1)) is not None
