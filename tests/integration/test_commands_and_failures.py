"""Commands at the edges, modal validation, and Slack failing in the ways it does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import pacing
from storage.models import Participant, Retro
from tests.blockkit import mrkdwn_text
from tests.conftest import Bot
from tests.fakeslack import BOT_USER_ID, POST_MESSAGE_INTERVAL, RATE_LIMITS
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    PEOPLE,
    blocks_text,
    close_retro,
    invitation_to,
    start_retro,
    started_note,
    team,
    ts,
    view_text,
)


@pytest.mark.parametrize(("text", "unknown"), [("help", False), ("", False), ("frobnicate now", True)])
def test_help_bare_and_unknown_show_usage(bot: Bot, text: str, unknown: bool) -> None:
    team(bot)
    reply, _ = bot.slack.command("UBOB", CHANNEL, text)
    assert "/retro new" in reply.text and "/retro close" in reply.text
    assert ("I don't know `/retro frobnicate`" in reply.text) is unknown
    assert bot.fake.calls_to("chat.postMessage") == []


def test_a_second_new_links_the_open_retro(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    views_before = len(bot.fake.views)
    reply, _ = bot.slack.command("UBOB", CHANNEL, "new Another")
    assert "already has an open retro" in reply.text
    assert f"https://fake.slack.test/archives/{CHANNEL}/p{kickoff.ts.replace('.', '')}" in reply.text
    bot.settle()
    assert len(bot.fake.views) == views_before


def test_new_in_a_dm_points_to_a_channel(bot: Bot) -> None:
    team(bot)
    reply, _ = bot.slack.command("UBOB", "DUBOB", "new")
    assert "in the team channel" in reply.text


def test_status_and_close_without_a_retro(bot: Bot) -> None:
    team(bot)
    for sub in ("status", "close"):
        reply, _ = bot.slack.command("UBOB", CHANNEL, sub)
        assert "no retro in this channel yet" in reply.text


def test_bad_modal_input_gets_inline_errors_and_nothing_is_created(bot: Bot) -> None:
    team(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "new")
    bot.settle()
    view_id = next(iter(bot.fake.views))
    reply = bot.slack.submit(
        FACILITATOR, view_id, {"title": "  ", "deadline": ts(bot.clock() - timedelta(hours=1))}
    )
    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"title", "deadline"}
    assert "at least 10 minutes from now" in reply.json["errors"]["deadline"]
    bot.settle()
    assert bot.fake.calls_to("chat.postMessage") == []
    with Session(bot.engine) as session:
        assert session.exec(select(Retro)).all() == []


def test_user_text_is_escaped_in_what_people_see(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot, title="<!channel> deploy was <https://evil.example|fine>")
    dm = invitation_to(bot.fake, "UBOB")
    # plain_text (the header) is shown literally by Slack; mrkdwn and notification text must be escaped.
    for text in (mrkdwn_text(kickoff.blocks) + kickoff.text, mrkdwn_text(dm.blocks) + dm.text):
        assert "<!channel>" not in text and "<https://evil.example|fine>" not in text
        assert "&lt;!channel&gt; deploy was &lt;https://evil.example|fine&gt;" in text


def test_rate_limits_and_server_errors_are_retried(bot: Bot) -> None:
    team(bot)
    bot.fake.fail("chat.postMessage", status=429, retry_after=7, when=lambda p: p.get("channel") == "UBOB")
    bot.fake.fail("chat.postMessage", status=503, when=lambda p: p.get("channel") == "UCAROL")
    start_retro(bot)
    assert len(bot.fake.dms_to("UBOB")) == 1
    assert len(bot.fake.dms_to("UCAROL")) == 1
    # Nothing slept: the 429 rescheduled Bob's invitation, whose retry came Retry-After later by the clock.
    assert bot.sleeps == []
    to_bob = [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == "UBOB"]
    assert [c in bot.fake.rate_limited_calls for c in to_bob] == [True, False]
    assert to_bob[1].at - to_bob[0].at >= 7
    # A 503 may come after Slack posted: Carol's DM was looked for (by its marker) before it was sent again.
    assert [c.params["channel"] for c in bot.fake.calls_to("conversations.history")] == ["DUCAROL"]
    assert "survey sent to 4 participants." in started_note(bot.fake).text


def test_a_server_error_after_the_post_is_found_in_history_and_not_posted_again(bot: Bot) -> None:
    """Slack posted, then answered 500: the bot finds its message by the marker it carries and goes on with
    that one, so each message exists once (the kickoff, whose thread the summary joins, and a DM)."""
    team(bot)
    bot.fake.fail("chat.postMessage", status=500, after=True, when=lambda p: p.get("channel") == CHANNEL)
    bot.fake.fail("chat.postMessage", status=502, after=True, when=lambda p: p.get("channel") == "UCAROL")
    kickoff = start_retro(bot)
    assert len(bot.fake.in_channel(CHANNEL)) == 1
    assert len(bot.fake.dms_to("UCAROL")) == 1
    posts = [c.params["channel"] for c in bot.fake.calls_to("chat.postMessage")]
    assert posts.count(CHANNEL) == 1 and posts.count("UCAROL") == 1
    looked = {c.params["channel"] for c in bot.fake.calls_to("conversations.history")}
    assert looked == {CHANNEL, "DUCAROL"}
    assert "survey sent to 4 participants." in started_note(bot.fake).text
    with Session(bot.engine) as session:
        assert session.exec(select(Retro)).one().kickoff_ts == kickoff.ts
    close_retro(bot)
    (summary,) = bot.fake.in_channel(CHANNEL, thread_ts=kickoff.ts)
    assert "of 4 people answered" in blocks_text(summary)


def test_people_who_cannot_be_reached_are_reported_once_and_the_rest_invited(bot: Bot) -> None:
    team(bot)
    bot.fake.add_user("UGONE", "gone", deleted=True)
    bot.fake.fail("chat.postMessage", error="user_not_found", when=lambda p: p.get("channel") == "UDAN")
    start_retro(bot, values={"participants": ["UBOB", "UDAN", "UNOBODY", "UGONE"]})
    assert len(bot.fake.dms_to("UBOB")) == 1
    # One message to the facilitator lists everyone who could not be reached: her "started" note, whether
    # Slack refused the lookup (UNOBODY) or the invitation (UDAN).
    report = started_note(bot.fake).text
    assert "survey sent to 1 participant." in report
    assert "<@UDAN>: `user_not_found`" in report and "<@UNOBODY>: `user_not_found`" in report
    assert "UGONE" not in report  # deactivated accounts are simply left out
    assert len(bot.fake.dms_to(FACILITATOR)) == 1 and bot.fake.ephemerals_to(FACILITATOR) == []
    with Session(bot.engine) as session:
        people = {p.user_id: p for p in session.exec(select(Participant)).all()}
    assert set(people) == {"UBOB", "UDAN"}
    assert people["UDAN"].invite_error == "user_not_found"


def test_a_channel_without_the_bot_gets_an_invite_hint(bot: Bot) -> None:
    """The bot is removed while the modal is open (before it, /retro new says so: test_slack_edges)."""
    team(bot)
    bot.slack.command(FACILITATOR, CHANNEL, "new Release")
    bot.settle()
    bot.fake.channels[CHANNEL].bot_is_member = False
    bot.fake.channels[CHANNEL].members.remove(BOT_USER_ID)
    reply = bot.slack.submit(FACILITATOR, next(iter(bot.fake.views)), {})
    assert reply.body == ""
    bot.settle()
    (dm,) = bot.fake.dms_to(FACILITATOR)
    assert "/invite @Rearview" in dm.text
    assert [m for m in bot.fake.messages if m.channel.startswith("D") and m.channel != "DUALICE"] == []
    with Session(bot.engine) as session:
        assert session.exec(select(Retro)).all() == []
    assert bot.scheduler.get_jobs() == []  # no deadline, nudges or follow-up for a retro that never was


def test_the_fake_enforces_one_use_three_second_trigger_ids(bot: Bot) -> None:
    """The bot opens modals at once; the fake refuses what real Slack would refuse."""
    team(bot)
    kickoff = start_retro(bot)
    _, trigger = bot.slack.click("UBOB", message=kickoff, action_id="survey_open")
    bot.settle()
    assert bot.fake.calls_to("views.open")[-1].params["trigger_id"] == trigger
    again = bot.fake._api_views_open({"trigger_id": trigger, "view": {}})
    assert again["error"] == "exchanged_trigger_id"
    stale = bot.fake.new_trigger()
    bot.fake.age_trigger(stale, 3.5)
    assert bot.fake._api_views_open({"trigger_id": stale, "view": {}})["error"] == "expired_trigger_id"


def test_requests_with_a_bad_or_stale_signature_are_refused(bot: Bot) -> None:
    team(bot)
    form = "command=%2Fretro&text=help&team_id=T0TEAM&user_id=UBOB&channel_id=CRELEASES"
    assert (
        bot.slack.post(form, content_type="application/x-www-form-urlencoded", signature="v0=forged").status
        == 401
    )
    old = bot.slack.post(form, content_type="application/x-www-form-urlencoded", timestamp=1_000_000)
    assert old.status == 401


def test_healthz(bot: Bot) -> None:
    import urllib.request

    with urllib.request.urlopen(bot.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert b'"ok": true' in response.read()


def test_slacks_rate_budgets_are_on_and_the_bot_keeps_to_them(bot: Bot) -> None:
    """Every integration test runs under Slack's budgets. Closing a retro posts in the channel faster than
    Slack's one message a second allows: the bot paces its posts instead of meeting 429s, nothing sleeps,
    and each message goes out once."""
    assert bot.fake.rate_limited
    team(bot)
    start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "- Rollback took 40 minutes")
    bot.settle()
    close_retro(bot)
    assert bot.fake.rate_limited_calls == []
    assert bot.sleeps == []
    in_channel = [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == CHANNEL]
    assert len(in_channel) == 2  # the kickoff, then the summary in its thread
    assert in_channel[1].at - in_channel[0].at >= POST_MESSAGE_INTERVAL
    posted = [(m.channel, m.text, m.thread_ts) for m in bot.fake.messages if m.user is None]
    assert len(posted) == len(set(posted)), "a message went out twice"
    assert len(bot.fake.uploads) == 1


def test_a_burst_beyond_a_tier_budget_waits_for_the_next_window(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Home tabs are Tier 4 (100 views.publish a minute). The bot budgets each method as Slack does; with
    the budget cut to 5 on both sides (so a small team exceeds it), starting and cancelling a retro publishes
    8 Home tabs: 5 go out, the rest wait for the window on the clock, and Slack never answers 429."""
    assert {method: RATE_LIMITS[method] for method in pacing.PER_MINUTE} == pacing.PER_MINUTE
    monkeypatch.setitem(pacing.PER_MINUTE, "views.publish", 5)
    monkeypatch.setitem(RATE_LIMITS, "views.publish", 5)
    team(bot)
    start_retro(bot)
    assert all("Release 2.4" in view_text(bot.fake.homes[person]) for person in PEOPLE)
    bot.slack.command(FACILITATOR, CHANNEL, "cancel The release was rolled back")
    bot.settle()
    assert bot.fake.rate_limited_calls == []
    assert bot.sleeps == []
    assert len(bot.fake.calls_to("views.publish")) == 2 * len(PEOPLE)
    assert bot.fake.busiest_window("views.publish") == 5
    assert bot.timeline.offset >= 60  # the clock jumped to the next window
    assert not any("Release 2.4" in view_text(bot.fake.homes[person]) for person in PEOPLE)
