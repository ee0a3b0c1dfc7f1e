"""Kudos: shout-outs to people, from the survey ("Shout-out to…") and the round-robin ("Give kudos"). Who is
thanked is always named; the giver is anonymous where the retro's anonymity makes them so (then only a keyed
hash, a random id and the retro's start are kept). The report lists them; the kickoff thread gets them at
the close, in one message."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import Phase
from bot.errors import DomainError, InvalidInput
from bot.outbox import Outbox
from bot.services.authors import AuthorKeys
from bot.services.items import is_anonymous
from bot.services.lookup import require_retro
from bot.services.permissions import Role, roles
from messages import kudos as screen
from storage import kudos as queries
from storage.db import unit_of_work
from storage.models import Kudos, Retro

OPEN_PHASES = (Phase.COLLECTING, Phase.DISCUSSING, Phase.VOTING, Phase.ACTIONS)


@dataclass(frozen=True)
class KudosDraft:
    to_user: str | None
    text: str | None
    wants_anonymous: bool = False


def kudos_errors(draft: KudosDraft, giver: str, *, required: bool) -> dict[str, str]:
    """By field ("to", "text"); an empty draft is fine where kudos are optional (the survey)."""
    text = (draft.text or "").strip()
    if not draft.to_user and not text:
        return {"to": "Pick who the shout-out is for."} if required else {}
    errors: dict[str, str] = {}
    if not draft.to_user:
        errors["to"] = "Pick who the shout-out is for."
    elif draft.to_user == giver:
        errors["to"] = "Kudos are for someone else: pick who you want to thank."
    if not text:
        errors["text"] = "Say what you are thanking them for."
    elif len(text) > screen.MAX_KUDOS_LENGTH:
        errors["text"] = f"Keep it under {screen.MAX_KUDOS_LENGTH} characters."
    return errors


class KudosService:
    def __init__(self, *, engine: Engine, clock: Clock, outbox: Outbox, keys: AuthorKeys) -> None:
        self.engine = engine
        self.clock = clock
        self.outbox = outbox
        self.keys = keys

    def _hash(self, retro: Retro, user_id: str) -> str:
        return self.keys.author_hash(team_id=retro.team_id, retro_id=retro.id, user_id=f"kudos:{user_id}")

    def _row(self, retro: Retro, giver: str, draft: KudosDraft, source: str) -> Kudos:
        assert draft.to_user is not None
        hidden = is_anonymous(retro, wants_anonymous=draft.wants_anonymous)
        return Kudos(
            team_id=retro.team_id,
            retro_id=retro.id,
            to_user_id=draft.to_user,
            text=(draft.text or "").strip(),
            from_user_id=None if hidden else giver,
            from_hash=self._hash(retro, giver) if hidden else None,
            source=source,
            created_at=retro.created_at if hidden else self.clock(),  # coarse when anonymous
        )

    def replace_survey_kudos(self, session: Session, retro: Retro, giver: str, draft: KudosDraft) -> None:
        """The survey's shout-out, in the survey's transaction (already checked with `kudos_errors`): it
        replaces the one this person gave in their earlier submission."""
        queries.drop_survey_kudos(
            session,
            team_id=retro.team_id,
            retro_id=retro.id,
            user_id=giver,
            from_hash=self._hash(retro, giver),
        )
        if draft.to_user:
            session.add(self._row(retro, giver, draft, "survey"))

    def survey_kudos(self, session: Session, retro: Retro, giver: str) -> Kudos | None:
        found = queries.survey_kudos_of(
            session,
            team_id=retro.team_id,
            retro_id=retro.id,
            user_id=giver,
            from_hash=self._hash(retro, giver),
        )
        return found[0] if found else None

    def check_giver(self, session: Session, retro: Retro, user_id: str) -> None:
        if retro.phase not in OPEN_PHASES:
            raise DomainError("This retro is over: kudos go in while it runs.")
        if not roles(session, retro, user_id) & {Role.FACILITATOR, Role.PARTICIPANT}:
            raise DomainError("Only the retro's facilitator and participants give kudos in it.")

    def retro_for_giving(self, *, team_id: str, retro_id: int, user_id: str) -> Retro:
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            self.check_giver(session, retro, user_id)
            return retro

    def give(self, *, team_id: str, retro_id: int, user_id: str, draft: KudosDraft) -> Kudos:
        """The round-robin's "Give kudos" modal. Raises InvalidInput by field."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            self.check_giver(session, retro, user_id)
            errors = kudos_errors(draft, user_id, required=True)
            if errors:
                raise InvalidInput(errors)
            kudos = self._row(retro, user_id, draft, "round_robin")
            session.add(kudos)
            session.commit()
            session.refresh(kudos)
            return kudos

    def post_at_close(self, session: Session, retro: Retro) -> None:
        """One message listing the retro's kudos in its kickoff thread (none: nothing), in the caller's
        transaction; keyed, so a publication run again posts it once."""
        found = queries.of_retro(session, team_id=retro.team_id, retro_id=retro.id)
        if not found:
            return
        message = screen.kudos_thread_message(retro=retro, kudos=found)
        self.outbox.in_thread(
            session, retro, text=message.text, blocks=message.blocks, key=f"kudos:{retro.id}"
        )
