"""The deadline closes collection by itself; nudges arrive at local hours, once, even across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.jobs import JobKind, job_id
from bot.timing import zone
from storage.models import Nudge, Retro
from tests.conftest import Bot
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    blocks_text,
    open_survey,
    replay,
    start_retro,
    stored_jobs,
    team,
    ts,
    view_text,
)

DEADLINE = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # Wednesday 17:00 UTC
ZONES = {
    "UALICE": "Europe/Berlin",
    "UBOB": "America/New_York",
    "UCAROL": "Asia/Tokyo",
    "UDAN": "Australia/Sydney",
}


def retro(bot: Bot) -> Retro:
    with Session(bot.engine) as session:
        return session.exec(select(Retro)).one()


def step_through_jobs(bot: Bot, until: datetime) -> list[str]:
    """Move the clock from job to job, as time would pass, running each when it is due."""
    ran: list[str] = []
    while True:
        pending = [j for j in bot.scheduler.get_jobs() if j.next_run_time <= until]
        if not pending:
            return ran
        bot.clock.now = max(bot.clock.now, min(j.next_run_time for j in pending))
        ran += bot.run_due_jobs()


def test_nudges_land_at_local_hours_once_and_never_for_people_who_answered(bot: Bot) -> None:
    team(bot)
    start_retro(bot, values={"deadline": ts(DEADLINE)})
    nudge_jobs = stored_jobs(bot, JobKind.NUDGE)
    assert len(nudge_jobs) == 8  # two reminders for each of the four people's time zones
    assert {j.kwargs["args"]["zone"] for j in nudge_jobs} == set(ZONES.values())
    for job in nudge_jobs:
        local = job.next_run_time.astimezone(zone(job.kwargs["args"]["zone"]))
        assert 8 <= local.hour < 20, (job.id, local)

    # Bob answers on Monday; the others do not.
    bot.slack.submit("UBOB", open_survey(bot, "UBOB", bot.fake.dms_to("UBOB")[0]), {"cat_went_well": "CI"})
    (dans_last,) = [
        j.kwargs
        for j in nudge_jobs
        if j.id == job_id(JobKind.NUDGE, "T0TEAM", retro(bot).id, "2h", ZONES["UDAN"])
    ]
    bot.restart()  # the nudges wait in the job store across a restart
    step_through_jobs(bot, until=DEADLINE - timedelta(minutes=1))

    with Session(bot.engine) as session:
        sent = session.exec(select(Nudge)).all()
    assert sorted((n.user_id, n.reminder) for n in sent) == sorted(
        (u, r) for u in ("UALICE", "UCAROL", "UDAN") for r in ("24h", "2h")
    )
    for nudge in sent:
        local = nudge.sent_at.astimezone(zone(ZONES[nudge.user_id]))
        assert 8 <= local.hour < 20, (nudge.user_id, nudge.reminder, local)
    for person in ("UALICE", "UCAROL", "UDAN"):
        reminders = [m for m in bot.fake.dms_to(person) if "A reminder" in blocks_text(m)]
        assert len(reminders) == 2
    assert not [m for m in bot.fake.dms_to("UBOB") if "A reminder" in blocks_text(m)]

    # A restart that replays a reminder (or a job that fires twice) sends nothing more.
    bot.restart()
    replay(bot, dans_last)
    assert len([m for m in bot.fake.dms_to("UDAN") if "A reminder" in blocks_text(m)]) == 2


def test_a_per_person_nudge_of_an_older_version_gives_way_to_its_time_zones_job(bot: Bot) -> None:
    team(bot)
    start_retro(bot, values={"deadline": ts(DEADLINE)})
    retro_id = retro(bot).id
    # What versions that nudged each person on their own left in the job store.
    legacy = job_id(JobKind.NUDGE, "T0TEAM", retro_id, "UCAROL", "24h")
    run_at = DEADLINE - timedelta(hours=24)
    bot.scheduler.add_job(
        "bot.jobs:due",
        trigger="date",
        run_date=run_at,
        id=legacy,
        kwargs={
            "kind": "nudge",
            "team_id": "T0TEAM",
            "job": legacy,
            "run_at": run_at.isoformat(),
            "args": {"retro_id": retro_id, "user_id": "UCAROL", "reminder": "24h"},
        },
    )
    bot.restart()  # the start-up reconciler replaces it
    assert legacy not in {j.id for j in bot.scheduler.get_jobs()}
    assert len(stored_jobs(bot, JobKind.NUDGE)) == 8
    step_through_jobs(bot, until=DEADLINE - timedelta(minutes=1))
    assert len([m for m in bot.fake.dms_to("UCAROL") if "A reminder" in blocks_text(m)]) == 2


def test_collection_closes_at_the_deadline_even_after_a_restart(bot: Bot) -> None:
    team(bot)
    start_retro(bot, values={"deadline": ts(DEADLINE)})
    bot.slack.message("UBOB", "DUBOB", "- Too many meetings")
    bot.settle()

    # The process restarts between scheduling and the deadline: the job is still in the database.
    bot.restart()
    (close,) = stored_jobs(bot, JobKind.CLOSE_COLLECTION)
    assert close.id == job_id(JobKind.CLOSE_COLLECTION, "T0TEAM", retro(bot).id)
    bot.clock.now = DEADLINE + timedelta(hours=3)  # the bot was down at the deadline itself
    assert close.id in bot.run_due_jobs()
    assert retro(bot).phase == "discussing"  # collection closed and the round-robin began
    told = [m for m in bot.fake.ephemerals_to(FACILITATOR) if "is closed" in m.text]
    assert len(told) == 1
    assert "1 item (" in told[0].text

    # Running the job again (a double fire) changes nothing and tells nobody twice.
    replay(bot, close.kwargs)
    assert len([m for m in bot.fake.ephemerals_to(FACILITATOR) if "is closed" in m.text]) == 1

    # Late answers are refused politely, naming the facilitator, and the survey shows why.
    bot.slack.message("UCAROL", "DUCAROL", "+ late thought")
    bot.settle()
    assert "please tell <@UALICE>" in bot.fake.dms_to("UCAROL")[-1].text
    notice = bot.fake.views[open_survey(bot, "UCAROL", bot.fake.dms_to("UCAROL")[0])]
    assert "please tell <@UALICE>" in view_text(notice)
    assert "submit" not in notice


def test_late_thread_replies_and_dms_name_the_facilitator(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot, values={"deadline": ts(DEADLINE)})
    bot.clock.now = DEADLINE + timedelta(minutes=5)  # past the deadline, before the job ran
    bot.slack.message("UCAROL", CHANNEL, "+ late", thread_ts=kickoff.ts)
    bot.slack.message("UDAN", "DUDAN", "+ late too")
    bot.settle()
    assert "please tell <@UALICE>" in bot.fake.ephemerals_to("UCAROL")[-1].text
    assert "please tell <@UALICE>" in bot.fake.dms_to("UDAN")[-1].text


def test_remind_is_for_the_facilitator_and_reaches_only_who_has_not_answered(bot: Bot) -> None:
    team(bot)
    start_retro(bot, values={"deadline": ts(DEADLINE)})
    bot.slack.message("UBOB", "DUBOB", "+ answered")
    bot.settle()
    refused, _ = bot.slack.command("UBOB", CHANNEL, "remind")
    assert "Only the facilitator" in refused.text

    bot.fake.users["UDAN"]["deleted"] = True  # Dan left after the retro began: his DM cannot be sent

    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "remind")
    # Answered at once: the reminders go out after the ack, and what could not be sent is told later.
    assert "Reminding 3 of 3 people who have not answered yet" in reply.text
    bot.settle()
    for person, expected in (("UALICE", 1), ("UCAROL", 1), ("UDAN", 0), ("UBOB", 0)):
        assert len([m for m in bot.fake.dms_to(person) if "A reminder" in blocks_text(m)]) == expected
    told = [
        m.text
        for m in bot.fake.ephemerals_to(FACILITATOR) + bot.fake.dms_to(FACILITATOR)
        if "couldn't deliver" in m.text
    ]
    assert told == ["I couldn't deliver everything:\n• a reminder to <@UDAN>: `channel_not_found`"]
    with Session(bot.engine) as session:
        sent = {(n.user_id, n.reminder, n.error) for n in session.exec(select(Nudge))}
    assert sent == {
        ("UALICE", "manual-1", None),
        ("UCAROL", "manual-1", None),
        ("UDAN", "manual-1", "channel_not_found"),
    }


def test_extend_moves_the_deadline_and_reschedules(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot, values={"deadline": ts(DEADLINE)})
    refused, _ = bot.slack.command("UBOB", CHANNEL, "extend")
    assert "Only the facilitator" in refused.text

    bot.slack.command(FACILITATOR, CHANNEL, "extend")
    bot.settle()
    view_id = list(bot.fake.views)[-1]
    past = bot.slack.submit(FACILITATOR, view_id, {"deadline": ts(bot.clock() - timedelta(hours=1))})
    assert "at least 10 minutes from now" in past.json["errors"]["deadline"]
    later = DEADLINE + timedelta(days=2)
    assert bot.slack.submit(FACILITATOR, view_id, {"deadline": ts(later)}).body == ""
    bot.settle()
    assert retro(bot).deadline == later
    (close_job,) = stored_jobs(bot, JobKind.CLOSE_COLLECTION)
    assert close_job.next_run_time == later
    (announcement,) = bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts)
    assert f"<!date^{ts(later)}^" in announcement.text
    # The old deadline passes without closing anything.
    bot.clock.now = DEADLINE + timedelta(minutes=1)
    bot.run_due_jobs()
    assert retro(bot).phase == "collecting"


def test_extend_after_the_deadline_is_refused(bot: Bot) -> None:
    team(bot)
    start_retro(bot, values={"deadline": ts(DEADLINE)})
    bot.clock.now = DEADLINE + timedelta(minutes=1)
    bot.run_due_jobs()
    assert retro(bot).phase == "discussing"
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "extend")
    assert "Collection for *Release 2.4* is over" in reply.text
