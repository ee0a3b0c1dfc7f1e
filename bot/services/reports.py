"""Following a retrospective and looking back: `/retro status`, the report (retrospective.md) on request,
and the channel's history with its chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import Phase, RetroMetrics, RetroStats
from bot.errors import NoRetroHere
from bot.intents import Purpose
from bot.outbox import Outbox
from bot.services.exports import FORMAT_NAMES, export_files
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.metrics import channel_history, earlier_retros, figures_from, metrics_of
from bot.services.recurrence import find_recurring
from bot.services.stats import compute_stats
from messages import closing, history
from messages.chart import history_chart
from messages.report import ReportData, render_report
from storage import action_items as action_item_queries
from storage import discussion as discussion_queries
from storage import items as item_queries
from storage import kudos as kudos_queries
from storage import retros as retro_queries
from storage import roti as roti_queries
from storage.db import read_only, unit_of_work
from storage.models import Retro


@dataclass(frozen=True)
class RetroStatus:
    """What `/retro status` shows: `turn_user`/`turn_due` are the open round-robin turn's, if any."""

    retro: Retro
    stats: RetroStats
    now: datetime
    turn_user: str | None = None
    turn_due: datetime | None = None


@dataclass(frozen=True)
class ChannelHistory:
    """The channel's last retros, newest first, with the figures of those not cancelled."""

    channel_id: str
    retros: Sequence[Retro]
    metrics: dict[int, RetroMetrics]

    @property
    def chartable(self) -> bool:
        """Two retros or more to draw the chart of."""
        return len(self.metrics) >= 2


class ReportService:
    def __init__(self, *, engine: Engine, clock: Clock, outbox: Outbox) -> None:
        self.engine = engine
        self.clock = clock
        self.outbox = outbox

    def status(self, *, team_id: str, channel_id: str) -> RetroStatus:
        """`/retro status`: the channel's retro (its latest, closed or not) and its figures."""
        with read_only(self.engine) as session:  # an ack: it need not wait for the workers' writes
            retro = require_channel_retro(session, team_id, channel_id, include_closed=True)
            stats = compute_stats(session, retro)
            turn = discussion_queries.open_turn(session, team_id=team_id, retro_id=retro.id)
            return RetroStatus(
                retro=retro,
                stats=stats,
                now=self.clock(),
                turn_user=turn.user_id if turn else None,
                turn_due=turn.due_at if turn else None,
            )

    def request_report_in(self, *, team_id: str, channel_id: str, which: str, user_id: str) -> Retro:
        """`/retro report [retro]`: find the retro (by number, by words of its title, or the channel's
        current one) and queue the upload; the report is built by a worker, not on the ack path."""
        with unit_of_work(self.engine) as session:
            retro = self.find_in_channel(session, team_id=team_id, channel_id=channel_id, which=which)
            request = self.clock().isoformat()
            self.outbox.task(
                session,
                team_id=team_id,
                name="upload_report",
                args={"retro_id": retro.id, "user_id": user_id},
                key=f"upload_report:{retro.id}:{user_id}:{request}",
                retro_id=retro.id,
            )
            session.commit()
            return retro

    def find_in_channel(self, session: Session, *, team_id: str, channel_id: str, which: str) -> Retro:
        if not which:
            return require_channel_retro(session, team_id, channel_id, include_closed=True)
        channel_retros = list(
            retro_queries.retros_in_channel(session, team_id=team_id, channel_id=channel_id)
        )
        if which.lstrip("#").isdigit():
            found = [r for r in channel_retros if r.id == int(which.lstrip("#"))]
        else:
            found = [r for r in channel_retros if which.lower() in r.title.lower()]
        if not found:
            raise NoRetroHere(history.no_match_text(which=which))
        return found[-1]

    def request_export_in(
        self, *, team_id: str, channel_id: str, which: str, user_id: str
    ) -> tuple[Retro, str]:
        """`/retro export [retro] [csv|json]`: find the retro as `/retro report` does and queue the export,
        built by a worker and sent to the person who asked, by DM. Returns the retro and the format."""
        words = which.split()
        fmt = words.pop().lower() if words and words[-1].lower() in FORMAT_NAMES else "csv"
        with unit_of_work(self.engine) as session:
            retro = self.find_in_channel(
                session, team_id=team_id, channel_id=channel_id, which=" ".join(words)
            )
            request = self.clock().isoformat()
            self.outbox.task(
                session,
                team_id=team_id,
                name="upload_export",
                args={"retro_id": retro.id, "user_id": user_id, "format": fmt, "request": request},
                key=f"upload_export:{retro.id}:{user_id}:{fmt}:{request}",
                retro_id=retro.id,
            )
            session.commit()
            return retro, fmt

    def upload_export(self, *, team_id: str, retro_id: int, user_id: str, fmt: str, request: str) -> None:
        """Task: the export's files, each uploaded to `user_id`'s DM (keyed: a task run again after a crash
        queues none twice)."""
        with unit_of_work(self.engine) as session:
            retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            if retro is None:
                return
            for filename, content in export_files(session, retro, fmt):
                self.outbox.upload(
                    session,
                    team_id=team_id,
                    channel=user_id,
                    filename=filename,
                    content=content,
                    title=filename,
                    initial_comment=closing.export_comment(retro=retro, filename=filename),
                    key=f"export:{retro_id}:{user_id}:{request}:{filename}",  # the file name holds the format
                    retro_id=retro_id,
                    report_to=user_id,
                    what=closing.export_what(retro=retro),
                )
            session.commit()

    def upload_report(self, *, team_id: str, retro_id: int, user_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            queue_report(self.outbox, session, retro, build_report(session, retro), report_to=user_id)
            session.commit()

    def history(self, *, team_id: str, channel_id: str, user_id: str) -> ChannelHistory:
        """`/retro history`: the channel's last retros with their figures; when there are two or more to
        draw, the chart is queued too (drawn by a worker, for `user_id` to hear about if it fails)."""
        with unit_of_work(self.engine) as session:
            retros = channel_history(session, team_id=team_id, channel_id=channel_id)
            figures = metrics_of(session, [r for r in retros if r.phase != Phase.CANCELLED])
            found = ChannelHistory(channel_id=channel_id, retros=retros, metrics=figures)
            if found.chartable:
                self.outbox.task(
                    session,
                    team_id=team_id,
                    name="upload_chart",
                    args={"channel_id": channel_id, "user_id": user_id},
                    key=f"chart:{channel_id}:{self.clock().isoformat()}",
                )
                session.commit()
        return found

    def upload_chart(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        """Task: draw the history chart (matplotlib is slow to start) and queue its upload."""
        with unit_of_work(self.engine) as session:
            retros = channel_history(session, team_id=team_id, channel_id=channel_id)
            plotted = list(metrics_of(session, [r for r in retros if r.phase != Phase.CANCELLED]).values())
            if len(plotted) < 2:
                return
            self.outbox.upload(
                session,
                team_id=team_id,
                channel=channel_id,
                filename="retro-history.png",
                content=history_chart(plotted).hex(),
                binary=True,
                title="Retro history",
                initial_comment=history.CHART_COMMENT,
                report_to=user_id,
                what="the history chart",
            )
            session.commit()


def queue_report(
    outbox: Outbox,
    session: Session,
    retro: Retro,
    report: str,
    *,
    report_to: str,
    key: str | None = None,
    purpose: Purpose | None = None,
    what: str = "the report",
) -> None:
    """retrospective.md, uploaded to the retro's channel: at the close, and again on request."""
    outbox.upload(
        session,
        team_id=retro.team_id,
        channel=retro.channel_id,
        filename="retrospective.md",
        content=report,
        title=closing.report_title(retro=retro),
        initial_comment=closing.report_comment(retro=retro),
        key=key,
        purpose=purpose,
        retro_id=retro.id,
        report_to=report_to,
        what=what,
    )


def build_report(session: Session, retro: Retro, stats: RetroStats | None = None) -> str:
    """retrospective.md for one retro: what close uploads, `/retro report` re-uploads and the CLI prints.
    Each table is read once, for this retro and the earlier ones it is compared with together, so the
    number of statements does not grow with the items or the retros (tests/unit/test_statement_counts.py)."""
    stats = stats or compute_stats(session, retro)
    team_id, retro_id = retro.team_id, retro.id
    previous = retro_queries.previous_retro(session, team_id=team_id, retro=retro)
    before = earlier_retros(session, retro)  # the history's retros, and those problems recur from
    ids = list(dict.fromkeys([*(r.id for r in before), retro_id, *([previous.id] if previous else [])]))
    people = retro_queries.participants_of_retros(session, team_id=team_id, retro_ids=ids)
    responses = item_queries.responses_of_retros(session, team_id=team_id, retro_ids=ids)
    items = item_queries.items_of_retros(session, team_id=team_id, retro_ids=ids)
    actions = action_item_queries.of_retros(session, team_id=team_id, retro_ids=ids)
    history = figures_from(
        [*before, retro],
        people=people,
        actions=actions,
        responses=responses,
        items={r: len(found) for r, found in items.items()},
        roti=roti_queries.figures_of_retros(session, team_id=team_id, retro_ids=ids),
    )
    return render_report(
        ReportData(
            retro=retro,
            participants=people[retro_id],
            responses=responses[retro_id],
            items=items[retro_id],
            action_items=actions[retro_id],
            stats=stats,
            votes=discussion_queries.vote_counts(session, team_id=team_id, retro_id=retro_id),
            previous=previous,
            previous_actions=actions[previous.id] if previous else [],
            history=[history[r.id] for r in [*before, retro]],
            recurring=find_recurring(retro, items[retro_id], [(r, items[r.id]) for r in before]),
            comments=discussion_queries.comments_by_item(session, team_id=team_id, retro_id=retro_id),
            kudos=kudos_queries.of_retro(session, team_id=team_id, retro_id=retro_id),
        )
    )
