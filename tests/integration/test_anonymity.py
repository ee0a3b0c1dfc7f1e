"""Anonymous means anonymous: nothing in the database leads from an anonymous item to its author."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, col, select

from storage.models import Item, Response
from tests.blockkit import mrkdwn_text
from tests.conftest import START, Bot
from tests.integration.helpers import (
    CHANNEL,
    FACILITATOR,
    close_retro,
    invitation_to,
    open_survey,
    start_retro,
    team,
    view_text,
)

EVIL = "<!channel> deploy was <https://evil.example|fine>"


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as strings: what anyone reading the database would see."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            tables[table] = [{k: str(v) for k, v in row.items()} for row in rows]
    return tables


def test_an_anonymous_dm_leaves_no_trace_of_its_author(bot: Bot) -> None:
    team(bot)
    start_retro(bot)  # anonymity defaults to "each person chooses"
    before = dump(bot.engine)
    _, ts = bot.slack.message("UBOB", "DUBOB", "anon - The deadline was set without asking us")
    bot.settle()
    assert "anonymously" in bot.fake.dms_to("UBOB")[-1].text

    with Session(bot.engine) as session:
        (item,) = session.exec(select(Item)).all()
    assert item.author_id is None and item.author_hash is not None
    # Stored with the retro's start (the retro began at START), not its own: nothing to match against
    # Slack's logs or against when each person answered.
    assert item.created_at == START

    tables = dump(bot.engine)
    for table, rows in tables.items():
        for row in rows:
            values = " ".join(row.values())
            assert ts not in values, (table, row)
            if row in before.get(table, []):
                continue  # there before Bob wrote (his invitation, his DM channel): being invited is not authorship
            # Nothing written since, not even the answer he was sent (the outbox forgets it once it is sent):
            # the DM channel and the time would lead straight back to Bob.
            assert "DUBOB" not in values, (table, row)
            if table not in ("participant", "apscheduler_jobs"):  # being invited is not authorship
                assert "UBOB" not in values, (table, row)


def test_anonymous_items_are_the_authors_to_edit_and_nobody_elses(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "anon - Secret worry")
    bot.settle()
    bot.slack.click("UBOB", message=kickoff, action_id="items_mine")
    bot.settle()
    mine = list(bot.fake.views.values())[-1]
    assert "Secret worry" in view_text(mine) and "_anonymous_" in view_text(mine)
    bot.slack.click("UCAROL", message=kickoff, action_id="items_mine")
    bot.settle()
    assert "Secret worry" not in view_text(list(bot.fake.views.values())[-1])


def test_status_and_the_report_show_counts_not_authors(bot: Bot) -> None:
    team(bot)
    start_retro(bot, values={"anonymity": "anonymous"})
    view_id = open_survey(bot, "UBOB", invitation_to(bot.fake, "UBOB"))
    reply = bot.slack.submit(
        "UBOB", view_id, {"cat_went_wrong": "Nobody owned the release", "smoothness": "3"}
    )
    assert "stored anonymously" in view_text(reply.json["view"])
    with Session(bot.engine) as session:
        (response,) = session.exec(select(Response)).all()
        (item,) = session.exec(select(Item)).all()
    assert response.author_id is None and item.author_id is None

    status, _ = bot.slack.command(FACILITATOR, CHANNEL, "status")
    assert "1 of 4" in status.text and "UBOB" not in status.text and "bob" not in status.text
    close_retro(bot)
    bot.settle()
    report = next(iter(bot.fake.uploads.values())).content.decode()
    wrong = report[report.index("## What went wrong") :]
    assert "- Nobody owned the release\n" in wrong
    assert "bob" not in wrong.split("##")[1]


def test_the_survey_can_be_switched_to_anonymous_and_back(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    dm = invitation_to(bot.fake, "UBOB")
    first = open_survey(bot, "UBOB", dm)
    bot.slack.submit("UBOB", first, {"cat_went_well": "Release notes", "anonymous": ["anonymous"]})
    with Session(bot.engine) as session:
        (item,) = session.exec(select(Item)).all()
    assert item.author_id is None
    # Stored with the retro's start (the retro began at START), not its own: nothing to match against
    # Slack's logs or against when each person answered.
    assert item.created_at == START
    again = open_survey(bot, "UBOB", dm)
    anon_block = next(b for b in bot.fake.views[again]["blocks"] if b.get("block_id") == "anonymous")
    assert anon_block["element"]["initial_options"][0]["value"] == "anonymous"
    bot.slack.submit("UBOB", again, {"cat_went_well": "Release notes", "anonymous": []})
    with Session(bot.engine) as session:
        assert [(i.author_id, i.text) for i in session.exec(select(Item))] == [("UBOB", "Release notes")]
        assert [r.author_id for r in session.exec(select(Response))] == ["UBOB"]


def test_user_text_is_shown_literally_everywhere(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", f"- {EVIL}".replace("<", "&lt;").replace(">", "&gt;"))
    bot.slack.message("UCAROL", CHANNEL, EVIL.replace("<", "&lt;").replace(">", "&gt;"), thread_ts=kickoff.ts)
    bot.settle()
    with Session(bot.engine) as session:
        assert [i.text for i in session.exec(select(Item))] == [EVIL]
    picker = bot.fake.ephemerals_to("UCAROL")[0]
    bot.slack.click("UBOB", message=kickoff, action_id="items_mine")
    bot.settle()
    mine = list(bot.fake.views.values())[-1]
    for shown in (mrkdwn_text(picker.blocks), mrkdwn_text(mine["blocks"])):
        assert "<!channel>" not in shown and "<https://evil.example|fine>" not in shown
        assert "&lt;!channel&gt; deploy was &lt;https://evil.example|fine&gt;" in shown
    close_retro(bot)
    bot.settle()
    report = next(iter(bot.fake.uploads.values())).content.decode()
    assert r"- \<!channel\> deploy was \<https://evil.example\|fine\>" in report


def test_my_items_edit_and_delete(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "- Typo in the alert\n- Second thought")
    bot.settle()
    reply, _ = bot.slack.command("UBOB", CHANNEL, "mine")
    assert reply.body == ""
    bot.settle()
    list_id = list(bot.fake.views)[-1]
    with Session(bot.engine) as session:
        first, second = session.exec(select(Item).order_by(col(Item.id))).all()

    bot.slack.click_in_view("UBOB", view_id=list_id, action_id="item_edit", value=str(first.id))
    bot.settle()
    edit_id = list(bot.fake.views)[-1]
    assert bot.fake.views[edit_id]["root_view_id"] == list_id
    bot.slack.submit("UBOB", edit_id, {"item_category": "to_improve", "item_text": "Fix the alert wording"})
    bot.settle()
    assert "Fix the alert wording" in view_text(bot.fake.views[list_id])

    bot.slack.click_in_view("UBOB", view_id=list_id, action_id="item_delete", value=str(second.id))
    bot.settle()
    assert "Second thought" not in view_text(bot.fake.views[list_id])
    with Session(bot.engine) as session:
        assert [(i.category, i.text) for i in session.exec(select(Item))] == [
            ("to_improve", "Fix the alert wording")
        ]


def test_nobody_edits_someone_elses_item(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "- Bob's item")
    bot.settle()
    with Session(bot.engine) as session:
        (item,) = session.exec(select(Item)).all()
    services = bot.services.items
    import pytest

    from bot.errors import NoRetroHere

    with pytest.raises(NoRetroHere):
        services.edit(
            team_id="T0TEAM", item_id=item.id, user_id="UCAROL", category="went_well", text="mine now"
        )
    with pytest.raises(NoRetroHere):
        services.delete(team_id="T0TEAM", item_id=item.id, user_id="UCAROL")
    with Session(bot.engine) as session:
        assert session.exec(select(Item)).one().text == "Bob's item"
