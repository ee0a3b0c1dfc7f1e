"""Starting a retrospective: the new-retro draft checked and stored, and its launch (participants, kickoff,
invitations), which runs as a task."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine, event, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import Phase
from bot.errors import InvalidInput, NoRetroHere, RetroAlreadyOpen
from bot.gateway import SlackCallFailed, SlackGateway
from bot.intents import Priority, Purpose, kickoff_key, started_key
from bot.outbox import Outbox
from bot.services.action_item_carryover import kickoff_message
from bot.services.home import HomeService
from bot.services.items import accepting
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.people import People
from bot.services.permissions import only_facilitator
from bot.services.retro_drafts import ALREADY_OPEN, ReleaseInfo, RetroDraft, draft_errors
from bot.services.timers import Timers
from messages import common, kickoff, survey
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import Participant, Retro

__all__ = ["Invited", "ReleaseInfo", "RetroDraft", "RetroService"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invited:
    """What `/retro invite` did: `skipped` lists (user, why: "bot", "deactivated" or Slack's error)."""

    retro: Retro
    added: list[str]
    already: list[str]
    skipped: list[tuple[str, str]]


# Errors that mean the bot cannot use the channel at all, as opposed to a passing failure.
_CHANNEL_UNUSABLE = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


class RetroService:
    def __init__(
        self,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        outbox: Outbox,
        people: People,
        timers: Timers,
        home: HomeService,
    ) -> None:
        self.home = home
        self.engine = engine
        self.gateway = gateway  # only for the launch task's lookups and links
        self.clock = clock
        self.outbox = outbox
        self.people = people
        self.timers = timers

    # ------------------------------------------------------------ start

    def ensure_can_start(self, *, team_id: str, channel_id: str) -> None:
        with unit_of_work(self.engine) as session:
            retro = retro_queries.current_retro_in_channel(session, team_id=team_id, channel_id=channel_id)
            if retro is not None:
                raise RetroAlreadyOpen(kickoff.already_open_text(retro=retro))

    def validate(self, draft: RetroDraft) -> None:
        """Everything that can be checked before the modal closes; raises InvalidInput by field name."""
        errors = draft_errors(draft, self.clock())
        if errors:
            raise InvalidInput(errors)
        try:
            self.ensure_can_start(team_id=draft.team_id, channel_id=draft.channel_id)
        except RetroAlreadyOpen as exc:
            raise InvalidInput({"title": ALREADY_OPEN}) from exc

    def create(self, draft: RetroDraft) -> Retro:
        """Validate and store the retro, and queue its launch; no Slack call, so it fits before the ack."""
        self.validate(draft)
        with unit_of_work(self.engine) as session:
            retro = self.create_in(session, draft)
            session.commit()
        return retro

    def create_in(self, session: Session, draft: RetroDraft) -> Retro:
        """Store the retro and queue its launch in the caller's transaction (a plan starting commits its own
        change with it). Raises InvalidInput if the draft is wrong or the channel has an open retro."""
        errors = draft_errors(draft, self.clock())
        if errors:
            raise InvalidInput(errors)
        assert draft.deadline is not None
        now = self.clock()
        release = draft.release
        retro = Retro(
            team_id=draft.team_id,
            channel_id=draft.channel_id,
            facilitator_id=draft.facilitator_id,
            facilitator_name=self.people.name(session, draft.team_id, draft.facilitator_id),
            title=draft.title.strip(),
            format=draft.format,
            phase=Phase.COLLECTING,
            deadline=draft.deadline,
            created_at=now,
            anonymity=draft.anonymity,
            custom_questions=list(draft.custom_questions),
            round_robin_scope=draft.round_robin_scope,
            turn_hours=draft.turn_hours,
            votes_per_person=draft.votes_per_person,
            followup_weeks=draft.followup_weeks,
            release_version=release.version,
            deploy_date=release.deploy_date,
            release_scope=release.scope,
            incidents=release.incidents,
            rollbacks=release.rollbacks,
            hotfixes=release.hotfixes,
            release_notes=release.notes,
        )
        try:
            with session.begin_nested():
                session.add(retro)
                session.flush()
        except IntegrityError:
            # The channel has an open retro, or another submit won the race for it.
            raise InvalidInput({"title": ALREADY_OPEN}) from None
        self.outbox.task(
            session,
            team_id=draft.team_id,
            name="launch",
            args={"retro_id": retro.id, "participants": list(dict.fromkeys(draft.participant_ids))},
            key=f"launch:{retro.id}",
            lane=f"retro:{retro.id}",
            retro_id=retro.id,
        )
        return retro

    def launch(self, *, team_id: str, retro_id: int, chosen: list[str]) -> None:
        """Task: find the participants, then queue the kickoff, every invitation, the facilitator's note and
        the Home tabs in one transaction. Runs again after a crash and does each part once."""
        with unit_of_work(self.engine) as session:
            retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            if retro is None or retro.phase != Phase.COLLECTING:
                return
            launched = bool(retro_queries.participants(session, team_id=team_id, retro_id=retro_id))
        if not launched:
            try:
                candidates = chosen or self._channel_members(team_id, retro.channel_id)
                resolved = self.people.resolve(team_id, [*candidates, retro.facilitator_id])
            except SlackCallFailed as exc:
                if exc.transient:
                    raise  # the task runs again later
                self._abandon(team_id, retro_id, exc.error)
                return
            invitees = [
                resolved.people[u]
                for u in dict.fromkeys(candidates)
                if u in resolved.people and not resolved.people[u].is_bot and not resolved.people[u].deleted
            ]
            unreachable = [(u, e) for u, e in resolved.unreachable if u in candidates]
            with unit_of_work(self.engine) as session:
                retro = require_retro(session, team_id, retro_id)
                if retro_queries.participants(session, team_id=team_id, retro_id=retro_id):
                    return  # another worker got here first
                if not retro.facilitator_name and retro.facilitator_id in resolved.people:
                    retro.facilitator_name = resolved.people[retro.facilitator_id].name
                    session.add(retro)
                if invitees:  # one statement for them all
                    session.execute(
                        insert(Participant),
                        [
                            {
                                "team_id": team_id,
                                "retro_id": retro_id,
                                "user_id": invitee.id,
                                "display_name": invitee.name,
                                "tz": invitee.tz,
                            }
                            for invitee in invitees
                        ],
                    )
                with self.outbox.batch(session):  # a statement per kind, not one per person
                    opening = self._kickoff(retro, [i.id for i in invitees])
                    self.outbox.post(
                        session,
                        team_id=team_id,
                        channel=retro.channel_id,
                        text=opening.text,
                        blocks=opening.blocks,
                        key=kickoff_key(retro_id),
                        priority=Priority.URGENT,
                        purpose=Purpose.KICKOFF,
                        retro_id=retro_id,
                    )
                    self._queue_invitations(session, retro, [i.id for i in invitees])
                    # Goes out as soon as the invitations are queued, and shows their progress as they go.
                    self.outbox.post(
                        session,
                        team_id=team_id,
                        channel=retro.facilitator_id,
                        text=kickoff.start_progress_text(
                            retro=retro, total=len(invitees), invited=0, failed=unreachable
                        ),
                        key=started_key(retro_id),
                        parent_key=kickoff_key(retro_id),
                        reply_to_parent=False,  # after the kickoff: nobody is invited to a retro that failed
                        priority=Priority.URGENT,
                        purpose=Purpose.STARTED,
                        retro_id=retro_id,
                        extra={"unreachable": unreachable, "total": len(invitees)},
                    )
                    for user_id in dict.fromkeys([retro.facilitator_id, *(i.id for i in invitees)]):
                        self.outbox.home(session, team_id=team_id, user_id=user_id)
                session.commit()
        with unit_of_work(self.engine) as session:
            retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            jobs = [*self.timers.collection(session, retro), *self.timers.followup(retro)] if retro else []
        # Scheduled outside any transaction: the deliveries go out meanwhile. A kickoff that failed in the
        # meantime discarded the retro (a `/retro cancel` ended it) and cancelled what existed then; what
        # it could not see goes now.
        self.timers.schedule(jobs)
        with unit_of_work(self.engine) as session:
            current = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            gone = current is None or current.phase == Phase.CANCELLED
        if jobs and gone:
            self.timers.cancel(job.id for job in jobs)

    def _queue_invitations(self, session: Session, retro: Retro, user_ids: Sequence[str]) -> None:
        """The survey invitation DM to each, once per person and retro (its key), after the kickoff: the launch
        and `/retro invite` send the same."""
        invite = survey.survey_invite_message(retro=retro)
        for user_id in user_ids:
            self.outbox.post(
                session,
                team_id=retro.team_id,
                channel=user_id,
                text=invite.text,
                blocks=invite.blocks,
                key=f"invite:{retro.id}:{user_id}",
                parent_key=kickoff_key(retro.id),
                reply_to_parent=False,  # after the kickoff: nobody is invited to a retro that failed
                priority=Priority.URGENT,
                purpose=Purpose.INVITE,
                retro_id=retro.id,
                extra={"facilitator": retro.facilitator_id},  # whose progress note it moves
            )

    # ------------------------------------------------------------ /retro invite

    def request_invite(
        self, *, team_id: str, channel_id: str, user_id: str, invitees: Sequence[str]
    ) -> Retro:
        """`/retro invite`: checked now (the facilitator, while collection is open), done by a task after the
        ack (looking people up is a Slack call), in the retro's lane: after its launch."""
        with unit_of_work(self.engine) as session:
            retro = require_channel_retro(session, team_id, channel_id)
            only_facilitator(retro, user_id, kickoff.may_invite(retro=retro))
            if not accepting(retro, self.clock()):
                raise NoRetroHere(kickoff.invite_closed_text(retro=retro))
            self.outbox.task(
                session,
                team_id=team_id,
                name="invite",
                args={"retro_id": retro.id, "invitees": list(dict.fromkeys(invitees))},
                key=f"invite-people:{retro.id}:{secrets.token_hex(8)}",
                lane=f"retro:{retro.id}",
                retro_id=retro.id,
            )
            session.commit()
            return retro

    def invite(self, *, team_id: str, retro_id: int, invitees: Sequence[str]) -> Invited | None:
        """Task: add these people as participants (not bots, not deactivated, not twice) and send each the
        survey invitation; tell the facilitator what was done. Runs again after a crash: the people already
        added are "already in", and their invitations are not queued twice (their keys)."""
        with unit_of_work(self.engine) as session:
            retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            if retro is None or not accepting(retro, self.clock()):
                return None
            known = {
                p.user_id for p in retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
            }
        # Only newcomers are looked up; a passing failure is raised: the task runs again.
        resolved = self.people.resolve(team_id, [u for u in invitees if u not in known])
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            if not accepting(retro, self.clock()):
                return None
            present = {
                p.user_id for p in retro_queries.participants(session, team_id=team_id, retro_id=retro_id)
            }
            added: list[str] = []
            already: list[str] = []
            skipped = [(u, e) for u, e in resolved.unreachable if u not in present]
            for user_id in dict.fromkeys(invitees):
                person = resolved.people.get(user_id)
                if user_id in present:
                    already.append(user_id)
                elif person is None:
                    continue  # unreachable: in `skipped`, with Slack's error
                elif person.is_bot:
                    skipped.append((user_id, "bot"))
                elif person.deleted:
                    skipped.append((user_id, "deactivated"))
                else:
                    added.append(user_id)
                    session.add(
                        Participant(
                            team_id=team_id,
                            retro_id=retro_id,
                            user_id=user_id,
                            display_name=person.name,
                            tz=person.tz,
                        )
                    )
            self._queue_invitations(session, retro, added)
            for user_id in added:
                self.outbox.home(session, team_id=team_id, user_id=user_id)
            found = Invited(retro=retro, added=added, already=already, skipped=skipped)
            self.outbox.ephemeral(
                session,
                team_id=team_id,
                channel=retro.channel_id,
                user=retro.facilitator_id,
                text=kickoff.invited_text(retro=retro, added=added, already=already, skipped=skipped),
            )
            session.commit()
            jobs = self.timers.collection(session, retro) if added else []
        self.timers.schedule(jobs)  # nudges for the newcomers' time zones; outside any transaction
        return found

    def _channel_members(self, team_id: str, channel_id: str) -> list[str]:
        """The channel's members. A workspace nobody of which is cached yet is read meanwhile: the two
        page-by-page listings overlap instead of adding up before the first invitation."""
        if not self.people.knows_nobody(team_id):
            return self.gateway.channel_members(channel=channel_id)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-users-list") as pool:
            everyone = pool.submit(self.people.list_everyone, team_id)
            members = self.gateway.channel_members(channel=channel_id)
            everyone.result()
        return members

    def _abandon(self, team_id: str, retro_id: int, error: str) -> None:
        """The channel cannot be used: forget the retro and tell the facilitator why."""
        with unit_of_work(self.engine) as session:
            retro = retro_queries.get_retro(session, team_id=team_id, retro_id=retro_id)
            if retro is None:
                return
            self.discard(session, retro, error)
            session.commit()

    def discard(self, session: Session, retro: Retro, error: str) -> None:
        """Forget a retro that could not start (its kickoff failed) and tell the facilitator why."""
        people = list(retro_queries.participants(session, team_id=retro.team_id, retro_id=retro.id))
        ids = self.timers.collection_ids(retro, people) + self.timers.followup_ids(retro)
        # Once the caller committed and let go of its connection: inside its transaction (it may have
        # written: the dispatcher's outcome) the job store's own connection would wait on SQLite's lock.
        committed: list[bool] = []
        event.listen(session, "after_commit", lambda _session: committed.append(True), once=True)

        def cancel_once_released(_session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is None and committed and len(committed) == 1:
                committed.append(True)  # once: the listener stays on the (short-lived) session
                self.timers.cancel(ids)

        event.listen(session, "after_transaction_end", cancel_once_released)
        for person in people:
            session.delete(person)
        session.flush()
        session.delete(retro)
        text = (
            kickoff.not_in_channel_text(channel_id=retro.channel_id)
            if error in _CHANNEL_UNUSABLE
            else kickoff.start_failed_text(error=error)
        )
        self.outbox.tell(session, team_id=retro.team_id, user=retro.facilitator_id, channel=None, text=text)
        for person in people:
            self.outbox.home(session, team_id=retro.team_id, user_id=person.user_id)

    def _kickoff(self, retro: Retro, participant_ids: list[str]) -> common.Message:
        with unit_of_work(self.engine) as session:
            return kickoff_message(session, retro, participant_ids)

    # ------------------------------------------------------------ helpers

    def _retro(self, team_id: str, retro_id: int, session: Session | None = None) -> Retro:
        if session is None:
            with unit_of_work(self.engine) as own:
                return self._retro(team_id, retro_id, own)
        return require_retro(session, team_id, retro_id)
