"""The round-robin's "Give kudos": from the retro's people while it runs, checked by field, anonymous about
the giver only where the retro's anonymity says so; the turn prompt offers it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import DomainError, InvalidInput
from bot.services import Services
from bot.services.kudos import KudosDraft
from messages import kudos as screen
from messages.rounds import turn_prompt_dm
from storage.models import Kudos, Turn
from tests.blockkit import buttons
from tests.factories import add_participants, make_retro


def test_kudos_from_the_round_robin(services: Services, engine: Engine) -> None:
    with Session(engine) as session:
        named = make_retro(session, phase="discussing", anonymity="named")
        hidden = make_retro(session, channel_id="C2", phase="voting", anonymity="anonymous")
        done = make_retro(session, channel_id="C3", phase="completed")
        for retro in (named, hidden, done):
            add_participants(session, retro.id, "UBOB")
        named_id, hidden_id, done_id = named.id, hidden.id, done.id
    give = services.kudos.give
    thanks = KudosDraft(to_user="UCAROL", text="Kept the notes")
    give(team_id="T1", retro_id=named_id, user_id="UBOB", draft=thanks)
    give(
        team_id="T1",
        retro_id=hidden_id,
        user_id="UBOB",
        draft=KudosDraft("UCAROL", "Again", wants_anonymous=False),
    )
    with pytest.raises(DomainError, match="facilitator and participants"):
        give(team_id="T1", retro_id=named_id, user_id="UOUT", draft=thanks)
    with pytest.raises(DomainError, match="over"):
        give(team_id="T1", retro_id=done_id, user_id="UBOB", draft=thanks)
    for bad, field in ((KudosDraft(None, "x"), "to"), (KudosDraft("UBOB", "x"), "to"), (KudosDraft("UCAROL", " "), "text"),
                       (KudosDraft("UCAROL", "x" * 501), "text")):  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            give(team_id="T1", retro_id=named_id, user_id="UBOB", draft=bad)
        assert set(refused.value.errors) == {field}
    with Session(engine) as session:
        stored = {(k.retro_id, k.from_user_id, k.from_hash is not None) for k in session.exec(select(Kudos))}
    assert stored == {
        (named_id, "UBOB", False),
        (hidden_id, None, True),
    }  # an anonymous retro hides the giver


def test_the_turn_prompt_offers_kudos() -> None:
    retro = make_retro(None)
    message = turn_prompt_dm(
        retro=retro, turn=Turn(id=5, team_id="T1", retro_id=retro.id, position=1, user_id="U1")
    )
    assert (screen.KUDOS_ACTION, str(retro.id), "Give kudos") in buttons(message.blocks)
