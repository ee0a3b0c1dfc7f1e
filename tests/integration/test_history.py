"""/retro history: the channel's retros with their figures, and a chart uploaded to Slack."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

from storage.db import unit_of_work
from storage.models import ActionItem, Participant, Response, Retro
from tests.conftest import Bot
from tests.integration.helpers import CHANNEL, team


def seed(bot: Bot) -> None:
    """Three completed retros with improving figures and one cancelled."""
    start = datetime(2026, 9, 7, 9, tzinfo=UTC)
    with unit_of_work(bot.engine) as session:
        for n, (answered, ratings, done) in enumerate(
            [(2, [4, 5], 0), (3, [6, 6, 7], 1), (4, [8, 7, 8, 9], 2)]
        ):
            moment = start + timedelta(weeks=2 * n)
            retro = Retro(
                team_id="T0TEAM",
                channel_id=CHANNEL,
                facilitator_id="UALICE",
                title=f"Sprint {n + 1}",
                format="well_wrong_improve",
                phase="completed",
                deadline=moment,
                created_at=moment,
                closed_at=moment + timedelta(days=1),
            )
            session.add(retro)
            session.commit()
            rid = retro.id
            for k, user in enumerate(["UALICE", "UBOB", "UCAROL", "UDAN"]):
                session.add(
                    Participant(
                        team_id="T0TEAM",
                        retro_id=rid,
                        user_id=user,
                        responded_at=moment if k < answered else None,
                    )
                )
            for k, rating in enumerate(ratings):
                session.add(
                    Response(team_id="T0TEAM", retro_id=rid, author_hash=f"h{rid}-{k}", smoothness=rating)
                )
            for k in range(2):
                session.add(
                    ActionItem(
                        team_id="T0TEAM",
                        retro_id=rid,
                        text=f"Action {k}",
                        owner_id="UBOB",
                        due_date=(moment + timedelta(days=10)).date(),
                        status="done" if k < done else "open",
                        created_at=moment,
                        closed_at=moment + timedelta(days=5) if k < done else None,
                    )
                )
        cancelled = Retro(
            team_id="T0TEAM",
            channel_id=CHANNEL,
            facilitator_id="UALICE",
            title="Sprint 4",
            format="well_wrong_improve",
            phase="cancelled",
            cancel_reason="Release postponed",
            deadline=start + timedelta(weeks=6),
            created_at=start + timedelta(weeks=6),
            closed_at=start + timedelta(weeks=6),
        )
        session.add(cancelled)
        session.commit()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_history_lists_figures_and_uploads_a_chart(bot: Bot) -> None:
    team(bot)
    seed(bot)
    reply, _ = bot.slack.command("UBOB", CHANNEL, "history")
    text = reply.text
    assert "*#1 Sprint 1* · 2026-09-07 · completed" in text
    assert "participation 50% (2/4)" in text and "participation 100% (4/4)" in text
    assert "action items 2/2 done (on time 100%)" in text
    assert "smoothness 8.0" in text
    assert "*#4 Sprint 4* · 2026-10-19 · cancelled: Release postponed" in text
    bot.settle()
    (chart,) = bot.fake.uploads.values()
    assert chart.filename == "retro-history.png" and chart.channel == CHANNEL
    width, height = png_size(chart.content)
    assert (width, height) == (1200, 600)
    assert 10_000 < len(chart.content) < 500_000


def test_a_channel_without_history(bot: Bot) -> None:
    team(bot)
    reply, _ = bot.slack.command("UBOB", CHANNEL, "history")
    assert "No retros in <#CRELEASES> yet" in reply.text
    bot.settle()
    assert bot.fake.uploads == {}


def test_the_metrics_for_on_time_completion() -> None:
    from bot.domain import RetroMetrics

    m = RetroMetrics(1, "R", "2026-01-01", 4, 3, 5, 4, 2, 1, 7.0)
    assert (m.participation, m.completion, m.on_time) == (0.75, 0.5, 0.5)
