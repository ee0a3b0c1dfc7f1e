"""Action items: created three ways, validated, owned, reminded, followed up, listed and reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from apscheduler.job import Job
from sqlmodel import Session, col, select

from bot.jobs import JobKind, job_id
from bot.timing import zone
from storage.models import ActionItem, ActionNotice, Item, Retro
from tests.conftest import Bot
from tests.fakeslack import PostedMessage
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    blocks_text,
    close_retro,
    replay,
    start_retro,
    stored_jobs,
    team,
    view_text,
)


def actions(bot: Bot) -> list[ActionItem]:
    with Session(bot.engine) as session:
        return list(session.exec(select(ActionItem).order_by(col(ActionItem.id))).all())


def reminders(bot: Bot) -> list[Job]:
    return stored_jobs(bot, JobKind.ACTION_REMINDER)


def cant_own(bot: Bot) -> list[str]:
    """What the facilitator was told about owners nobody can hold to an action item."""
    return [m.text for m in bot.fake.ephemerals_to(FACILITATOR) if "can't own" in m.text]


def owner_dm(bot: Bot, user: str) -> PostedMessage:
    return [m for m in bot.fake.dms_to(user) if "action item" in m.text.lower()][-1]


def test_slash_command_creates_an_action_item_and_tells_the_owner(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "action Automate the rollback <@UBOB|bob> next friday")
    assert "Action item for <@UBOB>, due Fri 27 Nov 2026" in reply.text
    bot.settle()
    (action,) = actions(bot)
    assert (action.text, action.owner_id, action.due_date, action.priority) == (
        "Automate the rollback",
        "UBOB",
        date(2026, 11, 27),  # Monday 04:00 in New York: next Friday is the 27th
        "medium",
    )
    dm = owner_dm(bot, "UBOB")
    shown = blocks_text(dm)
    assert "Automate the rollback" in shown and "Release 2.4" in shown and "<#CRELEASES>" in shown
    assert {"action_done", "action_due", "action_cant"} <= {
        e["action_id"] for b in dm.blocks for e in b.get("elements", [])
    }


def test_a_user_group_owns_an_action_item_through_its_point_person(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    reply, _ = bot.slack.command(
        FACILITATOR,
        CHANNEL,
        "action Own the flaky tests <!subteam^S0PLAT|@platform-team> <@UCAROL|carol> next friday",
    )
    assert "Action item for <!subteam^S0PLAT> (point: <@UCAROL>)" in reply.text, reply.text
    bot.settle()
    (action,) = actions(bot)
    assert (action.owner_id, action.owner_group_id, action.owner_group_handle) == (
        "UCAROL",
        "S0PLAT",
        "platform-team",
    )
    assert "<!subteam^S0PLAT> (point: <@UCAROL>)" in blocks_text(
        owner_dm(bot, "UCAROL")
    )  # the DMs: to the point
    close_retro(bot)
    bot.settle()
    report = list(bot.fake.uploads.values())[-1].content.decode()
    assert "| Own the flaky tests | @platform-team (point: carol) |" in report


def test_a_missing_due_date_means_the_follow_up_date(bot: Bot) -> None:
    team(bot)
    start_retro(bot)  # deadline in 3 days; follow-up 2 weeks after it
    bot.slack.command(FACILITATOR, CHANNEL, "action Write the runbook <@UCAROL|carol>")
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
    assert actions(bot)[0].due_date == (retro.deadline + timedelta(weeks=2)).date()


def test_bad_commands_are_explained_and_no_action_item_is_left_open(bot: Bot) -> None:
    team(bot)
    start_retro(bot)  # the channel's members, bots included, are in the people cache from here on
    cases = {
        "action Automate the rollback": "Usage: `/retro action <what> [@team] @owner [due]`",
        "action Fix it <@UBOB|bob> soonish": "I can't read “soonish” as a date",
        "action Fix it <@UBOB|bob> 2026-11-01": "“2026-11-01” is in the past",
        "action Fix it <@UDEPLOYBOT|deploybot> tomorrow": "deploybot is a bot",
    }
    for text, expected in cases.items():
        reply, _ = bot.slack.command(FACILITATOR, CHANNEL, text)
        assert expected in reply.text, (text, reply.text)
    assert actions(bot) == []

    # People the cache does not know are looked up after the ack: the facilitator hears, once each, why
    # they can't own it, and the item is not kept open (no reminders, no follow-up).
    bot.fake.add_user("UGONE", "gone", deleted=True)
    for owner in ("<@UGONE|gone>", "<@UNOBODY|nobody>"):
        bot.slack.command(FACILITATOR, CHANNEL, f"action Fix it {owner} tomorrow")
    bot.settle()
    assert sorted(cant_own(bot)) == [
        "<@UGONE> can't own “Fix it”: they have left the workspace. Create it again with another owner.",
        "<@UNOBODY> can't own “Fix it”: I can't find them in this workspace. Create it again with another owner.",
    ]
    assert [(a.owner_id, a.status) for a in actions(bot)] == [("UGONE", "dropped"), ("UNOBODY", "dropped")]
    assert reminders(bot) == []
    listing, _ = bot.slack.command(FACILITATOR, CHANNEL, "actions")
    assert "Fix it" not in listing.text


def to_results(bot: Bot) -> PostedMessage:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "- Slow CI\n* Cache dependencies")
    bot.settle()
    for _ in range(3):  # → round-robin → voting → results
        bot.slack.command(FACILITATOR, CHANNEL, "next")
        bot.settle()
    (results,) = [m for m in bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts) if "Voting results" in m.text]
    return results


def item_id(bot: Bot, text: str) -> int:
    with Session(bot.engine) as session:
        found = session.exec(select(Item).where(Item.text == text)).one()
        return found.id


def test_turn_a_result_into_an_action_item(bot: Bot) -> None:
    results = to_results(bot)
    option = f"action:{item_id(bot, 'Slow CI')}"
    bot.slack.click("UBOB", message=results, action_id="result_menu", option=option)
    bot.settle()
    assert "Only the facilitator" in view_text(list(bot.fake.views.values())[-1])

    bot.slack.click(FACILITATOR, message=results, action_id="result_menu", option=option)
    bot.settle()
    view_id = list(bot.fake.views)[-1]
    what = next(b for b in bot.fake.views[view_id]["blocks"] if b.get("block_id") == "action_what")
    assert what["element"]["initial_value"] == "Slow CI"

    bad = bot.slack.submit(FACILITATOR, view_id, {"action_due": "whenever", "action_owner": "UDEPLOYBOT"})
    assert "“whenever”" in bad.json["errors"]["action_due"]
    assert "is a bot" in bad.json["errors"]["action_owner"]
    assert actions(bot) == []

    ok = bot.slack.submit(
        FACILITATOR,
        view_id,
        {
            "action_what": "Cache the dependencies in CI",
            "action_owner": "UCAROL",
            "action_due": "in 2 weeks",
            "action_priority": "high",
            "action_link": "https://wiki.example/ci-standard",
        },
    )
    assert ok.body == ""
    bot.settle()
    (action,) = actions(bot)
    assert (action.priority, action.link, action.source_item_id) == (
        "high",
        "https://wiki.example/ci-standard",
        item_id(bot, "Slow CI"),
    )
    assert "*Why:* #1 Slow CI" in blocks_text(owner_dm(bot, "UCAROL"))

    # The facilitator's own "Add action item" button opens an empty modal.
    bot.slack.click(FACILITATOR, message=results, action_id="action_new")
    bot.settle()
    assert bot.fake.views[list(bot.fake.views)[-1]]["callback_id"] == "action_submit"


def test_owner_buttons_and_who_may_press_them(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "action Automate the rollback <@UBOB|bob> next friday")
    bot.settle()
    dm = owner_dm(bot, "UBOB")

    # Someone who is neither owner nor facilitator cannot mark it done.
    bot.slack.click("UCAROL", message=dm, action_id="action_done")
    bot.settle()
    assert "Only the owner" in bot.fake.responses[-1].body["text"]
    assert actions(bot)[0].status == "open"

    # Change the due date: the reminders move with it.
    bot.slack.click("UBOB", message=dm, action_id="action_due")
    bot.settle()
    view_id = list(bot.fake.views)[-1]
    past = bot.slack.submit("UBOB", view_id, {"action_due": "2026-11-01"})
    assert "today or a later date" in past.json["errors"]["action_due"]
    assert bot.slack.submit("UBOB", view_id, {"action_due": "2026-12-11"}).body == ""
    assert actions(bot)[0].due_date == date(2026, 12, 11)
    reminder_times = sorted(j.next_run_time for j in reminders(bot))
    ny = zone("America/New_York")
    assert [t.astimezone(ny).strftime("%a %d %H:%M") for t in reminder_times] == [
        "Thu 10 09:00",
        "Fri 11 09:00",
        "Sat 12 09:00",
    ]

    # Done: twice is still once, and the reminders are cancelled.
    bot.slack.click("UBOB", message=dm, action_id="action_done")
    bot.slack.click("UBOB", message=dm, action_id="action_done")
    bot.settle()
    assert actions(bot)[0].status == "done"
    assert "Done" in bot.fake.responses[-1].body["text"]
    assert reminders(bot) == []


def test_cant_do_it_tells_the_facilitator_why(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "action Migrate the queue <@UDAN|dan> in 3 days")
    bot.settle()
    bot.slack.click("UDAN", message=owner_dm(bot, "UDAN"), action_id="action_cant")
    bot.settle()
    view_id = list(bot.fake.views)[-1]
    empty = bot.slack.submit("UDAN", view_id, {"action_reason": "  "})
    assert "Say why" in empty.json["errors"]["action_reason"]
    bot.slack.submit("UDAN", view_id, {"action_reason": "The vendor contract blocks it"})
    bot.settle()
    assert actions(bot)[0].status == "dropped"
    told = bot.fake.dms_to(FACILITATOR)[-1].text
    assert "<@UDAN> can't do the action item" in told and "The vendor contract blocks it" in told


def test_reminders_and_overdue_notices_arrive_once_at_local_hours(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "action Update the runbook <@UCAROL|carol> 2026-11-30")
    bot.settle()
    tokyo = zone("Asia/Tokyo")
    (action,) = actions(bot)
    ids = {
        kind: job_id(JobKind.ACTION_REMINDER, "T0TEAM", action.id, kind)
        for kind in ("before", "due", "overdue")
    }
    stored = {j.id: j for j in reminders(bot)}
    assert set(stored) == set(ids.values())
    for kind, local_day in (("before", 27), ("due", 30), ("overdue", 1)):
        local = stored[ids[kind]].next_run_time.astimezone(tokyo)
        # The working day before a Monday is Friday.
        assert (local.day, local.hour) == (local_day, 9), (kind, local)

    bot.restart()  # reminders survive a restart
    bot.clock.now = datetime(2026, 12, 1, 9, 30, tzinfo=tokyo)  # the morning after the due date, Tokyo
    ran = [j for j in bot.run_due_jobs() if j in ids.values()]
    assert sorted(ran) == sorted(ids.values())
    texts = [m.text for m in bot.fake.dms_to("UCAROL") if "Update the runbook" in m.text]
    assert [t.split(":", 2)[2].split(":")[0].strip() for t in texts[1:]] == [
        "Due tomorrow (next working day)",
        "Due today",
        "Overdue",
    ]
    overdue_told = [m.text for m in bot.fake.dms_to(FACILITATOR) if "overdue" in m.text]
    assert len(overdue_told) == 1
    # A replayed job sends nothing more, to the owner or to the facilitator.
    bot.restart()
    replay(bot, stored[ids["overdue"]].kwargs)
    assert len([m for m in bot.fake.dms_to("UCAROL") if "Update the runbook" in m.text]) == len(texts) == 4
    assert [m.text for m in bot.fake.dms_to(FACILITATOR) if "overdue" in m.text] == overdue_told
    with Session(bot.engine) as session:
        assert len(session.exec(select(ActionNotice)).all()) == 4  # assigned + three reminders


def test_follow_up_asks_owners_and_posts_a_summary_once(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    for text in (
        "action Automate the rollback <@UBOB|bob> tomorrow",
        "action Write the runbook <@UCAROL|carol> in 3 weeks",
        "action Retire the old queue <@UDAN|dan> in 4 days",
    ):
        bot.slack.command(FACILITATOR, CHANNEL, text)
    bot.settle()
    bot.slack.click("UDAN", message=owner_dm(bot, "UDAN"), action_id="action_done")
    bot.settle()

    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
    bot.restart()  # a restart before the follow-up fires
    (job,) = stored_jobs(bot, JobKind.FOLLOWUP)
    assert job.next_run_time == retro.deadline + timedelta(weeks=2)
    bot.clock.now = retro.deadline + timedelta(weeks=2) - timedelta(seconds=1)
    assert job.id not in bot.run_due_jobs()  # not a second early (the owners' reminders are due by now)
    bot.clock.advance(seconds=1)
    assert bot.run_due_jobs() == [job.id]  # the stored job fires through its reference
    # Fired again after a restart (the status was already recorded): nobody hears twice.
    bot.restart()
    replay(bot, job.kwargs)

    asked = {u: [m for m in bot.fake.dms_to(u) if "Follow-up" in m.text] for u in ("UBOB", "UCAROL", "UDAN")}
    assert {u: len(v) for u, v in asked.items()} == {"UBOB": 1, "UCAROL": 1, "UDAN": 0}
    (summary,) = [m for m in bot.fake.in_channel(CHANNEL) if "Follow-up on" in m.text]
    shown = blocks_text(summary)
    assert (
        "*Done* (1)" in shown
        and "*Open* (1)" in shown
        and "*Overdue* (1)" in shown
        and "*Dropped* (0)" in shown
    )
    assert "Automate the rollback — <@UBOB>" in shown


def test_listing_open_action_items(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "action Automate the rollback <@UBOB|bob> tomorrow")
    bot.slack.command(FACILITATOR, CHANNEL, "action Write the runbook <@UCAROL|carol> next friday")
    bot.settle()
    mine, _ = bot.slack.command("UBOB", CHANNEL, "actions mine")
    assert "Automate the rollback" in mine.text and "Write the runbook" not in mine.text
    carol, _ = bot.slack.command("UBOB", CHANNEL, "actions <@UCAROL|carol>")
    assert "Write the runbook" in carol.text and "Automate" not in carol.text
    everything, _ = bot.slack.command("UBOB", CHANNEL, "actions")
    assert "Automate the rollback" in everything.text and "Write the runbook" in everything.text


def test_the_report_lists_action_items(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "action Automate the rollback <@UBOB|bob> 2026-12-04")
    bot.settle()
    close_retro(bot)
    bot.settle()
    report = next(iter(bot.fake.uploads.values())).content.decode()
    assert "| Automate the rollback | bob | 2026-12-04 | medium | — | open |" in report


def test_the_next_retro_carries_over_marks_done_or_drops_earlier_items(bot: Bot) -> None:
    team(bot)
    start_retro(bot, title="Release 2.4")
    for text in (
        "action Automate the rollback <@UBOB|bob> next friday",
        "action Write the runbook <@UCAROL|carol> next friday",
        "action Retire the old queue <@UDAN|dan> next friday",
    ):
        bot.slack.command(FACILITATOR, CHANNEL, text)
    bot.settle()
    bot.slack.click("UDAN", message=owner_dm(bot, "UDAN"), action_id="action_done")
    close_retro(bot)
    bot.settle()

    bot.clock.advance(days=14)
    kickoff = start_retro(bot, title="Release 2.5")
    shown = blocks_text(kickoff)
    assert "Open action items from Release 2.4" in shown
    assert "Automate the rollback" in shown and "Write the runbook" in shown
    assert "Retire the old queue" not in shown  # already done
    first, second = (a.id for a in actions(bot)[:2])

    bot.slack.click("UBOB", message=kickoff, action_id="previous_action", option=f"carry:{first}")
    bot.settle()
    assert "Only the facilitator" in bot.fake.responses[-1].body["text"]
    bot.slack.click(FACILITATOR, message=kickoff, action_id="previous_action", option=f"carry:{first}")
    bot.slack.click(FACILITATOR, message=kickoff, action_id="previous_action", option=f"drop:{second}")
    bot.settle()
    redrawn = blocks_text(kickoff)  # the fake applied chat.update to the kickoff
    assert "_carried over_" in redrawn and "_dropped_" in redrawn
    by_text = {(a.text, a.retro_id): a for a in actions(bot)}
    carried = by_text[("Automate the rollback", 2)]
    assert carried.status == "open" and carried.carried_from_id == first
    assert by_text[("Automate the rollback", 1)].status == "carried"
    assert by_text[("Write the runbook", 1)].status == "dropped"

    close_retro(bot)
    bot.settle()
    report = next(
        u for u in bot.fake.uploads.values() if u.title == "Retrospective: Release 2.5"
    ).content.decode()
    previous = report[report.index("## Previous action items") :]
    assert "From Release 2.4:" in previous
    assert "| Automate the rollback | bob |" in previous and "| carried over |" in previous
    assert "| Write the runbook | carol |" in previous and "| dropped |" in previous
    assert "| Retire the old queue | dan |" in previous and "| done |" in previous
    assert "| Automate the rollback | bob |" in report[: report.index("## Previous action items")]


def test_checking_the_owner_never_waits_out_a_rate_limit_before_the_ack(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    # Erin joined after the retro began: the people cache does not know her, and Slack is rate-limiting.
    bot.fake.add_user("UERIN", "erin", tz="America/Los_Angeles")
    bot.fake.fail("users.info", status=429, retry_after=30, when=lambda p: p.get("user") == "UERIN")
    mark = bot.timeline.mark()
    reply, _ = bot.slack.command(
        FACILITATOR, CHANNEL, "action Automate the rollback <@UERIN|erin> 2026-12-04"
    )
    assert "Action item for <@UERIN>, due Fri 04 Dec 2026" in reply.text
    assert [e for e in bot.timeline.before_ack(mark) if e.kind in ("call", "wait")] == []  # answered at once
    bot.settle()
    # After the ack the lookup waited out its Retry-After on the clock (no thread slept) and went through.
    lookups = [c for c in bot.fake.calls_to("users.info") if c.params.get("user") == "UERIN"]
    assert len(lookups) == 2 and lookups[1].at - lookups[0].at >= 30
    assert bot.sleeps == []
    (action,) = actions(bot)
    assert (action.status, action.owner_name, action.owner_tz) == ("open", "erin", "America/Los_Angeles")
    la = zone("America/Los_Angeles")
    assert {j.next_run_time.astimezone(la).hour for j in reminders(bot)} == {9}  # her mornings
    assert cant_own(bot) == []

    # A bot the cache does not know either: the ack cannot tell, the check after it tells the facilitator.
    bot.fake.add_user("UBUILDBOT", "buildbot", is_bot=True)
    mark = bot.timeline.mark()
    bot.slack.command(FACILITATOR, CHANNEL, "action Watch the builds <@UBUILDBOT|buildbot> 2026-12-04")
    assert [e for e in bot.timeline.before_ack(mark) if e.kind in ("call", "wait")] == []
    bot.settle()
    assert cant_own(bot) == [
        "<@UBUILDBOT> can't own “Watch the builds”: they are a bot. Create it again with another owner."
    ]
    assert [a.status for a in actions(bot)] == ["open", "dropped"]


def test_command_errors_quote_the_input_escaped(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "action Fix it <@UBOB|bob> <!channel>")
    assert "“&lt;!channel&gt;”" in reply.text
    assert "<!channel>" not in reply.text
