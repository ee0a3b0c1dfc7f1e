"""The fan-out's database work, pinned: launching a retro, delivering each invitation, recording how it
went and scheduling the nudges costs at most two SQL statements per participant, whatever the size, and
so does reminding everyone; so a statement per person cannot come back unnoticed.

Counted from the modal's submission to the last delivery settled, by the workers as they run (the
dispatcher claims and records in batches). Drawing each person's Home tab, which the launch redraws, is
counted apart: its queries are the Home screen's, pinned with it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

import bot.tasks
from bot.services import Services
from storage.models import Participant
from tests.conftest import FakeClock
from tests.factories import CHANNEL, TEAM, draft, launch
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

PER_PARTICIPANT = 2
PER_REMINDED = 1  # a reminder's record, message and delivery (was 1.4: a record inserted per person)
COMMITS_PER_PARTICIPANT = 1


@dataclass
class Counted:
    statements: int = 0
    commits: int = 0
    home: int = 0  # statements drawing Home tabs


@contextmanager
def counting(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    counted = Counted()
    drawing = threading.local()
    render = bot.tasks.Effects.render

    def render_counted(self: bot.tasks.Effects, name: str, *args: Any, **kwargs: Any) -> Any:
        drawing.home = name == "home"
        try:
            return render(self, name, *args, **kwargs)
        finally:
            drawing.home = False

    def statement(*_args: Any) -> None:
        if getattr(drawing, "home", False):
            counted.home += 1
        else:
            counted.statements += 1

    def commit(_connection: Any) -> None:
        counted.commits += 1

    monkeypatch.setattr(bot.tasks.Effects, "render", render_counted)
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        monkeypatch.undo()


def launch_to(
    engine: Engine, clock: FakeClock, people: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[Counted, Counted]:
    """A retro in a channel of `people` (in three time zones, the facilitator one of them) launched and
    every delivery settled."""
    channel = f"{CHANNEL}{people}"
    members = ["UFAC", *(f"U{n:04d}" for n in range(1, people))]
    gateway = RecordingGateway(members={channel: [*members, "UBOT"]})
    for n, user in enumerate(members):
        gateway.human(user, tz=("Europe/Berlin", "America/New_York", "Asia/Tokyo")[n % 3])
    gateway.human("UBOT", is_bot=True)
    jobs = RecordingJobs(engine=engine)
    services: Services = build_services(engine, clock, gateway, jobs)
    with counting(engine, monkeypatch) as counted:
        retro_id = launch(services.retros, gateway, draft(clock, channel_id=channel))
        clock.advance(seconds=5)  # the facilitator's progress note is redrawn at most every 2 s
        sent = gateway.sent
    invited = {m["channel"] for kind, m in sent if kind == "message" and m["channel"] in members}
    assert invited == set(members)
    with Session(engine) as session:
        recorded = session.exec(select(Participant).where(Participant.retro_id == retro_id)).all()
    assert len(recorded) == people and all(p.invited_at is not None for p in recorded)
    # The nudges: a job per reminder and time zone, not per person, besides the closing and follow-up.
    assert len([j for j in jobs.jobs.values() if j.team_id == TEAM]) == 2 * 3 + 2

    # Everyone reminded at once (as `/retro remind` does; a time zone's job does the same for its people).
    with counting(engine, monkeypatch) as nudging:
        assert services.deadlines.nudge(
            team_id=TEAM, retro_id=retro_id, reminder="manual-1", user_ids=set(members)
        ) == len(members)
        reminded = [m for kind, m in gateway.sent if kind == "message" and m["text"].startswith("Reminder")]
    assert sorted(m["channel"] for m in reminded) == sorted(members)
    return counted, nudging


def test_the_fan_out_costs_at_most_two_statements_per_participant(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, small_nudge = launch_to(engine, clock, 10, monkeypatch)
    large, large_nudge = launch_to(engine, clock, 40, monkeypatch)
    for what, few, many, limit in (
        ("launch", small, large, PER_PARTICIPANT),
        ("nudge", small_nudge, large_nudge, PER_REMINDED),
    ):
        per_person = (many.statements - few.statements) / 30
        commits = (many.commits - few.commits) / 30
        assert per_person <= limit, f"{what}: {per_person:.1f} statements per participant ({few}, {many})"
        assert commits <= COMMITS_PER_PARTICIPANT, (
            f"{what}: {commits:.1f} commits per participant ({few}, {many})"
        )
        # What does not grow with the people stays small too.
        assert few.statements - 10 * PER_PARTICIPANT <= 60, (what, few)
