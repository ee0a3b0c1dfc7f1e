"""Trackers: action items become tickets in GitHub, Jira or a signed webhook, and tickets closed there mark
their items done. The real clients (PyGithub, jira, requests) talk real HTTP to fake trackers started here
(tests/faketrackers.py); Slack is the recording gateway."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
import requests
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from bot.dispatcher import Dispatcher
from bot.errors import DomainError, InvalidInput
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from bot.services.trackers import MAX_TICKET_ATTEMPTS, TrackerDraft
from bot.tasks import Effects
from bot.trackers import Credentials
from messages import trackers as screen
from storage.models import ActionItem, TrackerConnection, TrackerTicket
from tests.conftest import FakeClock
from tests.factories import make_item, make_retro
from tests.faketrackers import FakeGitHub, FakeJira, FakeWebhook, serving
from tests.recording import RecordingGateway, RecordingJobs

SECRET = "deployment-secret-" + "x" * 20


@pytest.fixture
def tracked(engine: Engine, clock: FakeClock, gateway: RecordingGateway, jobs: RecordingJobs) -> Services:
    """The services of a deployment with REARVIEW_SECRET set."""
    services = Services.build(engine=engine, gateway=gateway, clock=clock, jobs=jobs, secret=SECRET)
    dispatcher = Dispatcher(
        engine=engine, gateway=gateway, clock=clock, effects=Effects(services), workers=0, pace=False
    )
    gateway.before_reading = dispatcher.drain
    gateway.human("UOWN", "Olive")
    gateway.human("UFAC", "Fay")
    return services


def _retro(engine: Engine, clock: FakeClock) -> tuple[int, int]:
    with Session(engine) as session:
        retro = make_retro(
            session,
            phase="completed",
            created_at=clock(),
            deadline=clock(),
            closed_at=clock(),
            kickoff_permalink="https://slack.test/archives/C1/p1",
        )
        item = make_item(
            session, retro_id=retro.id, category="went_wrong", text="Flaky smoke tests", number=3
        )
        return retro.id, item.id


def _connect(services: Services, kind: str, **fields: str) -> None:
    services.trackers.save(TrackerDraft(team_id="T1", channel_id="C1", user_id="UFAC", kind=kind, **fields))


def _act(services: Services, retro_id: int, source: int | None = None) -> int:
    created = services.action_items.create(
        ActionItemDraft(
            team_id="T1",
            retro_id=retro_id,
            created_by="UFAC",
            text="Quarantine the flaky smoke tests",
            owner_id="UOWN",
            due_text="2026-12-04",
            priority="high",
            source_item_id=source,
        )
    )
    assert created is not None
    return created.id


def _item(engine: Engine, action_id: int) -> ActionItem:
    with Session(engine) as session:
        found = session.get(ActionItem, action_id)
        assert found is not None
        return found


def _told(gateway: RecordingGateway, user: str) -> list[str]:
    return [
        p["text"]
        for kind, p in gateway.sent
        if (kind == "ephemeral" and p["user"] == user) or (kind == "message" and p["channel"] == user)
    ]


def test_a_github_ticket_carries_the_item_its_link_shows_everywhere_and_closing_it_marks_the_item_done(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id, source_id = _retro(engine, clock)
    with serving(FakeGitHub()) as github:
        _connect(tracked, "github", url=github.base, project="acme/ops", secret="ghp_secret")
        assert any("Connected to GitHub" in t for t in _told(gateway, "UFAC"))
        action_id = _act(tracked, retro_id, source=source_id)
        gateway.sent  # noqa: B018 - delivers what is due: the ticket's task

        assert len(github.issues) == 1
        issue = github.issues[0]
        assert issue["title"] == "Quarantine the flaky smoke tests"
        for part in ("Olive", "2026-12-04", "high", "Release 2.4", "https://slack.test/archives/C1/p1"):
            assert part in issue["body"]
        assert "#3 Flaky smoke tests" in issue["body"]
        assert f"rearview:T1:{action_id}" in issue["body"]
        link = "https://github.test/acme/ops/issues/1"
        assert _item(engine, action_id).ticket_url == link
        # The owner's DM is updated in place with the link, and their Home shows it.
        updates = [p for kind, p in gateway.sent if kind == "update"]
        assert any(f"<{link}|ticket>" in json.dumps(p["blocks"]) for p in updates)
        homes = [p for kind, p in gateway.sent if kind == "home" and p["user_id"] == "UOWN"]
        assert f"<{link}|ticket>" in json.dumps(homes[-1]["view"])

        closed_on = clock() - timedelta(days=2)
        github.close(1, closed_on)
        assert tracked.action_item_notices.followup(team_id="T1", retro_id=retro_id)
        item = _item(engine, action_id)
        assert item.status == "done"
        assert item.closed_at is not None and item.closed_at.date() == closed_on.date()
        assert item.status_note == f"Closed in GitHub (1) on {closed_on.date().isoformat()}"
        summary = gateway.messages_to("C1")[-1]["blocks"][0]["text"]["text"]
        assert "*Done* (1)" in summary and f"<{link}|ticket>" in summary


def test_a_jira_ticket_is_created_in_the_project_and_its_resolution_is_read_at_a_reminder(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id, _ = _retro(engine, clock)
    with serving(FakeJira()) as jira:
        _connect(
            tracked, "jira", url=jira.base, project="ops", email="ops@acme.test", secret="jira-api-token"
        )
        assert any("Connected to Jira" in t for t in _told(gateway, "UFAC"))
        action_id = _act(tracked, retro_id)
        gateway.sent  # noqa: B018

        assert [i["key"] for i in jira.issues] == ["OPS-1"]
        fields = jira.issues[0]["fields"]
        assert fields["summary"] == "Quarantine the flaky smoke tests"
        assert fields["duedate"] == "2026-12-04"
        assert fields["issuetype"] == {"name": "Task"}
        assert "high" in fields["description"] and "Olive" in fields["description"]
        assert _item(engine, action_id).ticket_url == f"{jira.base}/browse/OPS-1"

        resolved = clock() - timedelta(hours=30)
        jira.resolve("OPS-1", resolved)
        assert not tracked.action_item_notices.remind(
            team_id="T1", action_item_id=action_id, kind="due:2026-12-04"
        )
        item = _item(engine, action_id)
        assert item.status == "done"
        assert item.closed_at is not None and item.closed_at.date() == resolved.date()
        assert not any("Due today" in t for t in _told(gateway, "UOWN")), "no reminder for what is done"


def test_the_webhook_is_signed_with_a_timestamp_and_a_wrong_secret_is_refused_and_reported(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id, _ = _retro(engine, clock)
    receiver = FakeWebhook(now=lambda: clock().timestamp())
    with serving(receiver) as hook:
        _connect(tracked, "webhook", url=f"{hook.base}/hook", secret="not-the-secret")
        assert any(
            "could not use it" in t and "credentials were refused" in t for t in _told(gateway, "UFAC")
        )
        assert receiver.refused == 1

        _connect(tracked, "webhook", url=f"{hook.base}/hook", secret="whsec-shared")
        action_id = _act(tracked, retro_id)
        gateway.sent  # noqa: B018
        assert receiver.refused == 1
        [received] = receiver.received
        payload = received["payload"]
        assert received["delivery"] == f"rearview:T1:{action_id}"
        assert payload["event"] == "action_item.created"
        assert payload["text"] == "Quarantine the flaky smoke tests"
        assert payload["owner"]["slack_id"] == "UOWN"
        assert (payload["due_date"], payload["priority"]) == ("2026-12-04", "high")
        assert payload["retro"]["kickoff_url"] == "https://slack.test/archives/C1/p1"
        assert _item(engine, action_id).ticket_url == "https://tickets.test/WH-1"

        # The same signed request, replayed ten minutes later, is refused: its timestamp is signed too.
        clock.advance(minutes=10)
        replayed = requests.post(
            f"{hook.base}/hook", data=received["body"], headers=received["headers"], timeout=5
        )
        assert replayed.status_code == 401 and receiver.refused == 2
        _connect(tracked, "webhook", url=f"{hook.base}/hook", secret="")
        assert any("Connected to the webhook" in t for t in _told(gateway, "UFAC")), "the kept secret signs"
        assert receiver.refused == 2


@pytest.mark.parametrize("kind", ["github", "jira"])
def test_an_answer_lost_after_the_tracker_created_the_ticket_makes_no_second_one(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway, kind: str
) -> None:
    retro_id, _ = _retro(engine, clock)
    fake: FakeGitHub | FakeJira = (
        FakeGitHub(create_then_fail=True) if kind == "github" else FakeJira(create_then_fail=True)
    )
    with serving(fake):
        if kind == "github":
            _connect(tracked, "github", url=fake.base, project="acme/ops", secret="ghp_secret")
        else:
            _connect(
                tracked, "jira", url=fake.base, project="OPS", email="ops@acme.test", secret="jira-api-token"
            )
        action_id = _act(tracked, retro_id)
        gateway.sent  # noqa: B018 - created, but answered 502
        assert _item(engine, action_id).ticket_url is None
        clock.advance(seconds=31)
        gateway.sent  # noqa: B018 - the retry looks for the marker and finds it
        assert len(fake.issues) == 1
        assert _item(engine, action_id).ticket_url is not None


def test_a_tracker_that_is_down_is_tried_again_then_reported_once_and_the_item_is_kept(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id, _ = _retro(engine, clock)
    with serving(FakeGitHub(fail=[502, 429])) as github:
        _connect(tracked, "github", url=github.base, project="acme/ops", secret="ghp_secret")
        gateway.sent  # noqa: B018 - the check meets the 502
        action_id = _act(tracked, retro_id)
        gateway.sent  # noqa: B018 - the ticket meets the 429 (Retry-After: 7)
        assert github.issues == []
        clock.advance(seconds=8)
        gateway.sent  # noqa: B018
        assert len(github.issues) == 1
        assert _item(engine, action_id).ticket_url == "https://github.test/acme/ops/issues/1"

    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    _connect(tracked, "github", url=closed, project="acme/ops", secret="")
    action_id = _act(tracked, retro_id)
    for _ in range(MAX_TICKET_ATTEMPTS):
        gateway.sent  # noqa: B018
        clock.advance(minutes=31)
    failures = [t for t in _told(gateway, "UFAC") if "could not create a ticket" in t]
    assert len(failures) == 1
    assert "could not be reached" in failures[0] and f"{MAX_TICKET_ATTEMPTS} tries" in failures[0]
    item = _item(engine, action_id)
    assert (item.status, item.ticket_url, item.text) == ("open", None, "Quarantine the flaky smoke tests")
    with Session(engine) as session:
        ticket = session.exec(select(TrackerTicket).where(TrackerTicket.action_id == action_id)).one()
    assert (ticket.state, ticket.attempts) == ("failed", MAX_TICKET_ATTEMPTS)


def test_the_secret_is_stored_sealed_never_shown_back_and_kept_unless_replaced(
    tracked: Services, engine: Engine
) -> None:
    with Session(engine) as session:
        make_retro(session, phase="completed")
    _connect(tracked, "github", project="acme/ops", secret="ghp_supersecret")
    with engine.connect() as connection:
        dump = [str(row) for row in connection.execute(text("SELECT * FROM tracker_connection"))]
        dump += [str(row) for row in connection.execute(text("SELECT payload FROM delivery"))]
    assert dump and not any("ghp_supersecret" in row for row in dump)
    form = tracked.trackers.form(team_id="T1", channel_id="C1", user_id="UFAC")
    view = json.dumps(screen.tracker_modal(form), ensure_ascii=False)
    assert form.has_secret and "ghp_supersecret" not in view and screen.SECRET_SET in view
    with Session(engine) as session:
        first = session.exec(select(TrackerConnection)).one()
        sealed, first_id = first.secret, first.id
    _connect(tracked, "github", project="acme/other", secret="")
    with Session(engine) as session:
        kept = session.exec(select(TrackerConnection)).one()
    assert (kept.project, kept.secret) == ("acme/other", sealed)
    assert kept.id == first_id
    assert tracked.trackers.box.open("T1", kept.secret) == "ghp_supersecret"
    with pytest.raises(InvalidInput) as refused:
        _connect(tracked, "jira", url="https://acme.atlassian.net", project="OPS", email="a@b.c", secret="")
    assert set(refused.value.errors) == {"secret"}, "another kind of tracker needs its own secret"


def test_only_the_facilitator_of_the_channels_latest_retro_sets_its_tracker(
    tracked: Services, engine: Engine
) -> None:
    with Session(engine) as session:
        make_retro(session, phase="completed")
    with pytest.raises(DomainError):
        tracked.trackers.form(team_id="T1", channel_id="C1", user_id="UOTHER")
    with pytest.raises(DomainError):
        tracked.trackers.save(
            TrackerDraft(
                team_id="T1", channel_id="C1", user_id="UOTHER", kind="github", project="a/b", secret="t"
            )
        )
    tracked.trackers.form(team_id="T1", channel_id="C1", user_id="UFAC")


def test_without_rearview_secret_trackers_are_refused_clearly(services: Services) -> None:
    with pytest.raises(DomainError, match="REARVIEW_SECRET"):
        services.trackers.form(team_id="T1", channel_id="C1", user_id="UFAC")
    with pytest.raises(DomainError, match="REARVIEW_SECRET"):
        services.trackers.save(
            TrackerDraft(
                team_id="T1", channel_id="C1", user_id="UFAC", kind="github", project="a/b", secret="t"
            )
        )


def test_credentials_never_show_their_secret_when_printed_or_logged() -> None:
    credentials = Credentials("github", "", "acme/ops", "", "ghp_hidden")
    assert "ghp_hidden" not in repr(credentials) and "ghp_hidden" not in f"{credentials}"


def test_an_item_carried_over_to_the_next_retro_keeps_its_ticket_and_is_read_back(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id, _ = _retro(engine, clock)
    with serving(FakeGitHub()) as github:
        _connect(tracked, "github", url=github.base, project="acme/ops", secret="ghp_secret")
        action_id = _act(tracked, retro_id)
        gateway.sent  # noqa: B018
        clock.advance(days=14)
        with Session(engine) as session:
            current = make_retro(session, created_at=clock(), deadline=clock() + timedelta(days=2)).id
        tracked.action_item_carryover.decide_previous(
            team_id="T1", retro_id=current, action_item_id=action_id, user_id="UFAC", decision="carry"
        )
        with Session(engine) as session:
            copy = session.exec(select(ActionItem).where(ActionItem.retro_id == current)).one()
        assert copy.ticket_url == "https://github.test/acme/ops/issues/1"
        github.close(1, clock())
        assert tracked.trackers.sync(team_id="T1", action_item_ids=[copy.id]) == [copy.id]
        assert len(github.issues) == 1


def test_tickets_are_not_read_in_another_repository_the_channel_switched_to(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id, _ = _retro(engine, clock)
    with serving(FakeGitHub()) as github:
        _connect(tracked, "github", url=github.base, project="acme/ops", secret="ghp_secret")
        action_id = _act(tracked, retro_id)
        gateway.sent  # noqa: B018
        _connect(tracked, "github", url=github.base, project="acme/other", secret="")
        github.close(1, clock())
        assert tracked.trackers.sync(team_id="T1", action_item_ids=[action_id]) == []
        assert not [path for _, path in github.requests if path.startswith("/repos/acme/other/issues")]
        assert _item(engine, action_id).status == "open"


def test_a_tracker_that_cannot_be_read_is_skipped_until_the_next_time(
    tracked: Services, engine: Engine, clock: FakeClock, gateway: RecordingGateway
) -> None:
    retro_id, _ = _retro(engine, clock)
    with serving(FakeGitHub()) as github:
        _connect(tracked, "github", url=github.base, project="acme/ops", secret="ghp_secret")
        action_id = _act(tracked, retro_id)
        gateway.sent  # noqa: B018
        github.close(1, clock())
        github.fail = [502]
        assert tracked.trackers.sync(team_id="T1", action_item_ids=[action_id]) == []
        assert _item(engine, action_id).status == "open"
        assert tracked.trackers.sync(team_id="T1", action_item_ids=[action_id]) == [action_id]
