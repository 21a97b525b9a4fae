"""`casemgr users create-admin`: the first district admin of an empty database, invited
by email like everyone after them."""
from __future__ import annotations

import sqlalchemy as sa

from casemgr.cli import cli
from casemgr.models import AccountEvent, Organization, User
from tests.conftest import first_link
from tests.factories import create_district, create_user


def _run(app, *args):
    return app.test_cli_runner().invoke(cli, ["users", "create-admin", *args])


def test_the_first_admin_of_an_empty_database(app, db, mailbox):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
    result = _run(app, "Maria.Lopez@Riverside.test", "--name", "María López", "--district-name", "Riverside Unified")
    assert result.exit_code == 0, result.output
    assert "María López <maria.lopez@riverside.test> is a district admin of Riverside Unified (RIVERSIDE-UNIFIED)" in result.output
    district = db.session.scalar(sa.select(Organization))
    assert (district.kind, district.code, district.name) == ("district", "RIVERSIDE-UNIFIED", "Riverside Unified")
    admin = db.session.scalar(sa.select(User))
    assert (admin.role, admin.organization_id, admin.password_hash) == ("district_admin", district.id, None)
    assert "/invitations/" in first_link(mailbox.last("maria.lopez@riverside.test"))
    actions = db.session.scalars(sa.select(AccountEvent.action).where(AccountEvent.user_id == admin.id)
                                 .order_by(AccountEvent.id)).all()
    assert actions == ["created", "invited"]

    # a second admin joins the existing district, by its code
    result = _run(app, "second@riverside.test", "--name", "Second Admin", "--district", "RIVERSIDE-UNIFIED")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 1


def test_refusals_are_one_clear_line_and_change_nothing(app, db, mailbox):
    taken = create_user("counselor")
    district = create_district()
    create_district()
    db.session.commit()
    for args, message in [
        ((taken.email.upper(), "--name", "X", "--district", district.code), "already belongs to an account"),
        (("new@example.test", "--name", "X"), "several districts"),
        (("new@example.test", "--name", "X", "--district", "NOPE"), "give its name with --district-name"),
        (("not-an-email", "--name", "X", "--district", district.code), "is not an email address"),
        (("new@example.test", "--name", "A\x00B", "--district", district.code), "plain text"),
        (("new@example.test", "--name", "X" * 10_000, "--district", district.code), "plain text"),
    ]:
        result = _run(app, *args)
        assert result.exit_code != 0, args
        assert message in result.output, result.output
    assert len(mailbox) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_without_mail_url_the_link_is_printed(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_URL", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", str(tmp_path))
    result = app.test_cli_runner().invoke(cli, ["users", "create-admin", "first@example.test", "--name", "First Admin",
                                                "--district", "D-NEW", "--district-name", "New District"])
    assert result.exit_code == 0, result.output
    assert "written to the outbox" in result.output
    assert "link: http://127.0.0.1:5000/invitations/" in result.output
    assert len(list(tmp_path.glob("*.eml"))) == 1
