"""`flask clinic create-user` and `flask clinic seed-demo`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from clinic import clock
from clinic.auth import operations as ops
from clinic.cli import DEMO_CLINIC_NAME, DEMO_OWNER_EMAIL, DEMO_PASSWORD
from clinic.extensions import db
from clinic.models import Client, Clinic, Role, User
from tests.auth import location, page, sign_in_form

PASSWORD = "a scripted password"
BANNER = "Demo clinic: every person and record here is made up."


def create_user(runner: Any, *extra: str, input: str | None = None, **kw: Any) -> Any:
    args = ["clinic", "create-user", "--email", "Cli.Owner@Example.com", "--name", "Cli Owner"]
    return runner.invoke(args=[*args, *extra], input=input, **kw)


def users(app: Any) -> list[User]:
    with app.app_context():
        found = db.session.scalars(select(User).order_by(User.id)).all()
        for user in found:
            db.session.expunge(user)
        return list(found)


def clinic_count(app: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Clinic)) or 0)


def test_create_user_with_a_typed_password(app, runner, client):
    result = create_user(
        runner, "--clinic", "X", "--role", "owner", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created owner cli.owner@example.com in clinic 'X'" in result.output
    assert PASSWORD not in result.output
    [user] = users(app)
    assert user.email == "cli.owner@example.com"
    assert user.full_name == "Cli Owner"
    assert user.role is Role.OWNER
    assert user.clinic.name == "X"
    assert user.must_change_password is False
    assert user.password_hash.startswith("$argon2id$")
    assert ops.verify_password(user.password_hash, PASSWORD)
    # Setup is gone and the account signs in through the web.
    assert client.get("/setup").status_code == 404
    assert sign_in_form(client, "cli.owner@example.com", PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_create_user_reads_the_password_from_the_environment(app, runner):
    result = create_user(
        runner, "--clinic", "X", env={"CLINIC_NEW_USER_PASSWORD": PASSWORD}, input=""
    )
    assert result.exit_code == 0, result.output
    [user] = users(app)
    assert user.role is Role.THERAPIST  # the default role
    assert ops.verify_password(user.password_hash, PASSWORD)


def test_create_user_refuses_a_short_password(app, runner):
    result = create_user(runner, "--clinic", "X", env={"CLINIC_NEW_USER_PASSWORD": "too-short"})
    assert result.exit_code != 0
    assert "Use at least 12 characters." in result.output
    assert users(app) == []
    assert clinic_count(app) == 0


def test_create_user_refuses_a_mismatched_confirmation(app, runner):
    result = create_user(runner, "--clinic", "X", input=f"{PASSWORD}\nsomething else\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert users(app) == []


def test_create_user_refuses_a_duplicate_email(app, runner):
    env = {"CLINIC_NEW_USER_PASSWORD": PASSWORD}
    assert create_user(runner, "--clinic", "X", env=env).exit_code == 0
    first_hash = users(app)[0].password_hash
    result = runner.invoke(
        args=[
            "clinic",
            "create-user",
            "--email",
            " CLI.OWNER@example.com ",
            "--name",
            "Someone Else",
            "--clinic",
            "Y",
        ],
        env={"CLINIC_NEW_USER_PASSWORD": "another long password"},
    )
    assert result.exit_code != 0
    assert "An account with this email address exists already." in result.output
    [user] = users(app)
    assert user.full_name == "Cli Owner"
    assert user.password_hash == first_hash
    assert clinic_count(app) == 1


def test_create_user_adds_to_an_existing_clinic_by_name(app, runner):
    env = {"CLINIC_NEW_USER_PASSWORD": PASSWORD}
    assert create_user(runner, "--clinic", "X", "--role", "owner", env=env).exit_code == 0
    result = runner.invoke(
        args=["clinic", "create-user", "--email", "t@example.com", "--name", "T", "--one-time"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    owner, therapist = users(app)
    assert therapist.clinic_id == owner.clinic_id
    assert therapist.must_change_password is True
    assert clinic_count(app) == 1


def test_create_user_needs_a_clinic_name_when_there_is_none(app, runner):
    result = create_user(runner, env={"CLINIC_NEW_USER_PASSWORD": PASSWORD})
    assert result.exit_code != 0
    assert "--clinic" in result.output
    assert users(app) == []


def test_create_user_one_time_password_forces_a_change(app, runner, client):
    result = create_user(
        runner, "--clinic", "X", "--one-time", env={"CLINIC_NEW_USER_PASSWORD": PASSWORD}
    )
    assert result.exit_code == 0, result.output
    sign_in_form(client, "cli.owner@example.com", PASSWORD)
    assert location(client.get("/clients/")) == "/account/password"
    # Like the owner's one-time passwords, it stops working after ONE_TIME_PASSWORD_HOURS.
    (user,) = users(app)
    assert user.one_time_password_expires_at is not None
    left = user.one_time_password_expires_at - clock.utcnow()
    assert timedelta(hours=71) < left <= timedelta(hours=72)


def _demo_counts(app: Any) -> tuple[int, int, int]:
    with app.app_context():
        return (
            int(db.session.scalar(select(func.count()).select_from(Clinic)) or 0),
            int(db.session.scalar(select(func.count()).select_from(User)) or 0),
            int(db.session.scalar(select(func.count()).select_from(Client)) or 0),
        )


def test_seed_demo_is_idempotent(app, runner):
    first = runner.invoke(args=["clinic", "seed-demo"])
    assert first.exit_code == 0, first.output
    assert "4 client(s) added" in first.output
    counts = _demo_counts(app)
    assert counts == (1, 1, 4)

    second = runner.invoke(args=["clinic", "seed-demo"])
    assert second.exit_code == 0, second.output
    assert "0 client(s) added" in second.output
    assert _demo_counts(app) == counts

    with app.app_context():
        clinic = db.session.scalars(select(Clinic)).one()
        assert clinic.is_demo is True
        assert clinic.name == DEMO_CLINIC_NAME
        owner = db.session.scalars(select(User)).one()
        assert owner.email == DEMO_OWNER_EMAIL
        assert owner.role is Role.OWNER
        assert owner.clinic_id == clinic.id
        assert owner.password_hash.startswith("$argon2id$")


def test_seed_demo_beside_a_real_clinic_leaves_it_alone(app, runner, clinic_world):
    before = _demo_counts(app)
    assert runner.invoke(args=["clinic", "seed-demo"]).exit_code == 0
    assert runner.invoke(args=["clinic", "seed-demo"]).exit_code == 0
    assert _demo_counts(app) == (before[0] + 1, before[1] + 1, before[2] + 4)
    with app.app_context():
        real = db.session.scalars(select(Clinic).where(Clinic.is_demo.is_(False))).all()
        assert {clinic.name for clinic in real} == {"Clinic Alpha", "Clinic Beta"}


def test_the_demo_banner_shows_for_the_demo_owner_only(app, runner, clinic_world):
    assert runner.invoke(args=["clinic", "seed-demo"]).exit_code == 0
    demo = app.test_client()
    assert sign_in_form(demo, DEMO_OWNER_EMAIL, DEMO_PASSWORD).status_code == 302
    html = page(demo.get("/clients/"))
    assert BANNER in html
    assert "Margaret" in html

    real = app.test_client()
    sign_in_form(real, clinic_world.a.owner_email)
    html = page(real.get("/clients/"))
    assert BANNER not in html
    assert "Margaret" not in html

    anonymous = app.test_client()
    assert BANNER not in page(anonymous.get("/login"))
