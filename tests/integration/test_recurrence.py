"""Across a series of retros, the same problem is noticed when it comes back, and only then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from storage.db import unit_of_work
from storage.models import Item, Retro
from tests.conftest import Bot
from tests.integration.helpers import CHANNEL, FACILITATOR, blocks_text, close_retro, start_retro, team


def earlier_retros(engine: Engine, problems: list[list[str]]) -> None:
    start = datetime(2026, 8, 3, 9, tzinfo=UTC)
    with unit_of_work(engine) as session:
        for n, texts in enumerate(problems):
            moment = start + timedelta(weeks=2 * n)
            retro = Retro(
                team_id="T0TEAM",
                channel_id=CHANNEL,
                facilitator_id=FACILITATOR,
                title=f"Sprint {n + 1}",
                format="well_wrong_improve",
                phase="completed",
                deadline=moment,
                created_at=moment,
                closed_at=moment + timedelta(days=1),
            )
            session.add(retro)
            session.commit()
            for text in texts:
                session.add(
                    Item(
                        team_id="T0TEAM",
                        retro_id=retro.id,
                        category="went_wrong",
                        text=text,
                        source="survey",
                        created_at=moment,
                    )
                )
            session.add(  # a success that looks alike must never count as a recurring problem
                Item(
                    team_id="T0TEAM",
                    retro_id=retro.id,
                    category="went_well",
                    text="Rollback took 5 minutes this time",
                    source="survey",
                    created_at=moment,
                )
            )
        session.commit()


def test_a_problem_that_keeps_coming_back_is_flagged_in_the_kickoff_and_the_report(bot: Bot) -> None:
    team(bot)
    earlier_retros(
        bot.engine,
        [
            ["Rollback took 40 minutes", "Too many meetings"],
            ["Flaky tests in the payment suite"],
            ["Rollbacks are still manual and take 40 minutes", "Staging env was down"],
        ],
    )
    kickoff = start_retro(bot, title="Sprint 4")
    shown = blocks_text(kickoff)
    assert "Problems that keep coming back" in shown
    assert "Rollbacks are still manual and take 40 minutes: raised in 2 of the last 3 retros" in shown
    assert "Staging" not in shown and "meetings" not in shown

    bot.slack.message("UBOB", "DUBOB", "- Rollback took forever again, 40 minutes\n- Coffee machine broke")
    bot.settle()
    close_retro(bot)
    bot.settle()
    report = next(iter(bot.fake.uploads.values())).content.decode()
    section = report[report.index("## Recurring problems") : report.index("## Surprises and learnings")]
    assert "- Rollback took forever again, 40 minutes: raised in 3 of the last 4 retros" in section
    assert "Sprint 1: “Rollback took 40 minutes”" in section
    assert "Sprint 3: “Rollbacks are still manual and take 40 minutes”" in section
    assert "Flaky" not in section and "Coffee" not in section and "5 minutes" not in section
