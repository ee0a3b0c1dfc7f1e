"""A small team in a fake workspace, and steps that read like what people do."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from apscheduler.job import Job
from sqlmodel import Session, col, select

from bot import jobs
from bot.jobs import JobKind
from storage.models import Item
from tests.conftest import Bot
from tests.fakeslack import BOT_USER_ID, FakeSlack, PostedMessage

CHANNEL = "CRELEASES"
FACILITATOR = "UALICE"
PEOPLE = ["UALICE", "UBOB", "UCAROL", "UDAN"]


def team(bot: Bot) -> None:
    fake = bot.fake
    fake.add_user("UALICE", "alice", tz="Europe/Berlin")
    fake.add_user("UBOB", "bob", tz="America/New_York")
    fake.add_user("UCAROL", "carol", tz="Asia/Tokyo")
    fake.add_user("UDAN", "dan", tz="Australia/Sydney")
    fake.add_user(BOT_USER_ID, "rearview", is_bot=True)
    fake.add_user("UDEPLOYBOT", "deploybot", is_bot=True)
    fake.add_channel(CHANNEL, "releases", [*PEOPLE, BOT_USER_ID, "UDEPLOYBOT"])


def start_retro(
    bot: Bot, *, title: str = "Release 2.4", values: dict[str, Any] | None = None
) -> PostedMessage:
    """Alice runs /retro new and submits the modal; returns the kickoff once every DM went out."""
    before = len(_kickoffs(bot))
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, f"new {title}")
    assert reply.status == 200
    bot.settle()
    view_id = _last_view(bot)
    assert view_id is not None
    submitted = bot.slack.submit(FACILITATOR, view_id, values or {})
    assert submitted.status == 200, submitted.body
    assert submitted.body == "", submitted.body
    bot.settle()
    kickoffs = _kickoffs(bot)
    assert len(kickoffs) == before + 1, "no kickoff was posted"
    return kickoffs[-1]


def _kickoffs(bot: Bot) -> list[PostedMessage]:
    return [m for m in bot.fake.in_channel(CHANNEL) if m.text.startswith("Retrospective started")]


def _last_view(bot: Bot) -> str | None:
    opened = bot.fake.calls_to("views.open")
    if not opened:
        return None
    return list(bot.fake.views)[-1]


def open_survey(bot: Bot, user: str, message: PostedMessage) -> str:
    before = len(bot.fake.views)
    reply, _ = bot.slack.click(user, message=message, action_id="survey_open")
    assert reply.status == 200
    bot.settle()
    assert len(bot.fake.views) > before, "no modal opened"
    return list(bot.fake.views)[-1]


def view_text(view: dict[str, Any]) -> str:
    """Every piece of text a person sees in a view or message blocks."""
    return _texts(view.get("blocks", []))


def _texts(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                out.append(str(node.get("text")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


def blocks_text(message: PostedMessage) -> str:
    return _texts(message.blocks)


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def close_retro(bot: Bot, values: dict[str, Any] | None = None) -> None:
    """The facilitator runs /retro close and confirms the close dialog."""
    before = len(bot.fake.views)
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "close")
    assert reply.body == "", reply.body
    bot.settle()
    assert len(bot.fake.views) == before + 1, "the close dialog did not open"
    view_id = list(bot.fake.views)[-1]
    assert bot.fake.views[view_id]["callback_id"] == "retro_close"
    submitted = bot.slack.submit(FACILITATOR, view_id, values or {})
    assert submitted.body == "", submitted.body
    bot.settle()


def items(bot: Bot) -> list[tuple[str, str, str | None, str]]:
    """Every stored item as (category, text, author, source), by time, then id: ids are random, but one
    message's or submission's lines get ascending ones (storage/ids.py)."""
    with Session(bot.engine) as session:
        return [
            (i.category, i.text, i.author_id, i.source)
            for i in session.exec(select(Item).order_by(col(Item.created_at), col(Item.id)))
        ]


def stored_jobs(bot: Bot, kind: JobKind) -> list[Job]:
    """The scheduler's stored jobs of one kind (their kwargs are what `bot.jobs:due` is called with)."""
    return [j for j in bot.scheduler.get_jobs() if j.kwargs["kind"] == kind]


def replay(bot: Bot, fired: dict[str, Any]) -> None:
    """A stored job fired again through its reference, with the kwargs it fired with: once exactly (a double
    fire), once as if moved to an hour later (a new task, so only the service's own record stops it)."""
    later = datetime.fromisoformat(fired["run_at"]) + timedelta(hours=1)
    jobs.due(**fired)
    jobs.due(**{**fired, "run_at": later.isoformat()})
    bot.settle()


def invitation_to(fake: FakeSlack, user: str) -> PostedMessage:
    """The one survey invitation `user` received by DM (a facilitator also gets the "started" note)."""
    (invitation,) = [m for m in fake.dms_to(user) if m.text.startswith("You're invited")]
    return invitation


def started_note(fake: FakeSlack, user: str = FACILITATOR) -> PostedMessage:
    """The facilitator's one "started" DM, as it reads now (its progress is updated in place)."""
    (note,) = [m for m in fake.dms_to(user) if " has started: " in m.text]
    return note
