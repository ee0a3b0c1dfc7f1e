"""Trackers over HTTP: the facilitator connects GitHub with /retro tracker, and an action item made with
/retro action becomes an issue in a fake GitHub started here (PyGithub's real client, real HTTP); its
link reaches the owner's DM, and the token is never shown back."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from messages import trackers as screen
from storage.models import ActionItem
from tests.conftest import Bot
from tests.faketrackers import FakeGitHub, serving
from tests.integration.helpers import CHANNEL, FACILITATOR, start_retro, team, view_text


def _tracker_modal(bot: Bot) -> str:
    reply, _ = bot.slack.command(FACILITATOR, CHANNEL, "tracker")
    assert reply.status == 200
    bot.settle()
    view_id = list(bot.fake.views)[-1]
    assert bot.fake.views[view_id]["callback_id"] == screen.TRACKER_CALLBACK
    return view_id


def test_a_facilitator_connects_github_and_an_action_item_becomes_an_issue_linked_in_the_owners_dm(
    bot: Bot,
) -> None:
    team(bot)
    start_retro(bot)
    with serving(FakeGitHub(token="ghp_integration")) as github:
        submitted = bot.slack.submit(
            FACILITATOR,
            _tracker_modal(bot),
            {
                screen.KIND_BLOCK: "github",
                screen.PROJECT_BLOCK: "acme/ops",
                screen.URL_BLOCK: github.base,
                screen.SECRET_BLOCK: "ghp_integration",
            },
        )
        assert (submitted.status, submitted.body) == (200, "")
        bot.settle()
        assert any("Connected to GitHub" in m.text for m in bot.fake.ephemerals_to(FACILITATOR))

        reply, _ = bot.slack.command(
            FACILITATOR, CHANNEL, "action Automate the rollback <@UBOB|bob> next friday"
        )
        assert reply.status == 200
        bot.settle()
        [issue] = github.issues
        assert issue["title"] == "Automate the rollback"
        assert "2026-11-27" in issue["body"] and "medium" in issue["body"]
        link = "https://github.test/acme/ops/issues/1"
        with Session(bot.engine) as session:
            assert session.exec(select(ActionItem.ticket_url)).one() == link
        dm = [m for m in bot.fake.dms_to("UBOB") if "action item" in m.text.lower()][-1]
        assert f"<{link}|ticket>" in json.dumps(dm.blocks)

        # Opened again, the modal keeps the settings and shows the token only as set.
        shown = bot.fake.views[_tracker_modal(bot)]
        assert "ghp_integration" not in json.dumps(shown)
        assert screen.SECRET_SET in view_text(shown) or screen.SECRET_SET in json.dumps(
            shown, ensure_ascii=False
        )
