"""The outbox's batches write what one-by-one writes would; the pacer holds back only what a 429 was about."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.outbox import Outbox
from bot.pacing import Pacer
from bot.services import Services
from storage.models import Delivery
from tests.conftest import FakeClock
from tests.recording import RecordingGateway

TEAM = "T1"


def rows(engine: Engine) -> list[tuple[str, str | None, int, dict[str, object]]]:
    with Session(engine) as session:
        found = session.exec(select(Delivery).order_by(col(Delivery.id))).all()
        return [(d.key, d.lane, d.generation, d.payload) for d in found]


def queue(outbox: Outbox, session: Session) -> None:
    outbox.post(session, team_id=TEAM, channel="C1", text="kickoff", key="kickoff")
    for user in ("U1", "U2", "U1"):  # U1 twice: once is enough
        outbox.post(session, team_id=TEAM, channel=user, text=f"hi {user}", key=f"invite:{user}")
    outbox.home(session, team_id=TEAM, user_id="U1")
    outbox.home(session, team_id=TEAM, user_id="U1")  # again: one waiting Home tab
    outbox.post(session, team_id=TEAM, channel="UFAC", text="started", key="started")


def test_a_batch_writes_what_one_by_one_writes_in_the_same_order(engine: Engine, clock: FakeClock) -> None:
    outbox = Outbox(clock)
    with Session(engine) as session:
        queue(outbox, session)
        session.commit()
    one_by_one = rows(engine)
    with Session(engine) as session:
        for delivery in session.exec(select(Delivery)):
            session.delete(delivery)
        session.commit()

    with Session(engine) as session:
        with Outbox.batch(session), Outbox.batch(session):  # nested: the outer one writes
            queue(outbox, session)
            assert session.exec(select(Delivery)).all() == []  # nothing yet
        session.commit()
    batched = rows(engine)
    assert [r[0] for r in batched] == ["kickoff", "invite:U1", "invite:U2", "home:U1", "started"]
    assert [(k, lane, payload) for k, lane, _g, payload in batched] == [
        (k, lane, payload) for k, lane, _g, payload in one_by_one
    ]
    # A Home tab asked for again while it waits is still one delivery.
    assert [g for k, _l, g, _p in batched if k == "home:U1"] == [0]


def test_a_batch_that_fails_writes_nothing(engine: Engine, clock: FakeClock) -> None:
    outbox = Outbox(clock)
    with Session(engine) as session:
        try:
            with Outbox.batch(session):
                outbox.post(session, team_id=TEAM, channel="C1", text="kickoff", key="kickoff")
                raise RuntimeError("the step failed")
        except RuntimeError:
            pass
        outbox.post(session, team_id=TEAM, channel="C1", text="after", key="after")  # not batched any more
        session.commit()
    assert [r[0] for r in rows(engine)] == ["after"]


def test_a_posts_429_holds_back_its_channel_only() -> None:
    now = [1000.0]
    pacer = Pacer(lambda: now[0])
    pacer.block(TEAM, "chat.postMessage", 3.0, "U1")
    assert pacer.reserve(TEAM, "chat.postMessage", "U1") == 3.0
    assert pacer.reserve(TEAM, "chat.postMessage", "U2") == 0.0  # a thousand other DMs go on
    assert pacer.reserve("T2", "chat.postMessage", "U1") == 0.0  # and other workspaces
    # Any other method's 429 holds back the method in the workspace.
    pacer.block(TEAM, "views.publish", 2.0, "U1")
    assert pacer.reserve(TEAM, "views.publish") == 2.0
    now[0] += 3.0
    assert pacer.reserve(TEAM, "chat.postMessage", "U1") == 0.0
    assert pacer.reserve(TEAM, "views.publish") == 0.0
    # One message a second per channel.
    assert pacer.reserve(TEAM, "chat.postMessage", "U1") == 1.0


def test_asked_for_again_while_sent_it_goes_once_more_and_what_was_claimed_with_it_once(
    services: Services, gateway: RecordingGateway, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Claimed together and recorded in one transaction: the row asked for again keeps its claim and goes
    # out once more; the others are settled once.
    with Session(engine) as session:
        for user in ("U1", "U2", "U3"):
            services.outbox.home(session, team_id=TEAM, user_id=user)
        session.commit()
    publish = gateway.publish_home

    def publish_and_ask_again(*, user_id: str, view: dict[str, Any]) -> None:
        publish(user_id=user_id, view=view)
        if user_id == "U2" and len([k for k, p in gateway._sent if p.get("user_id") == "U2"]) == 1:
            with Session(engine) as session:
                services.outbox.home(session, team_id=TEAM, user_id="U2")
                session.commit()

    monkeypatch.setattr(gateway, "publish_home", publish_and_ask_again)
    drawn = sorted(p["user_id"] for kind, p in gateway.sent if kind == "home")
    assert drawn == ["U1", "U2", "U2", "U3"]
    with Session(engine) as session:
        states = session.exec(select(Delivery.key, Delivery.state, Delivery.claim)).all()
    assert sorted(states) == [(f"home:{u}", "done", None) for u in ("U1", "U2", "U3")]


def test_a_dm_posted_to_by_user_id_and_by_channel_id_is_paced_as_one_conversation() -> None:
    """Slack's one message a second counts a DM's conversation, whether a post names the person or the DM."""
    now = [0.0]
    pacer = Pacer(lambda: now[0])
    assert pacer.reserve("T1", "chat.postMessage", "U1") == 0.0
    pacer.same_conversation("T1", "U1", "D1")  # Slack answered: the post went to D1
    now[0] = 0.5
    assert pacer.reserve("T1", "chat.postMessage", "D1") == 0.5
    assert pacer.reserve("T1", "chat.postMessage", "U1") == 0.5
    assert pacer.reserve("T1", "chat.postMessage", "U2") == 0.0  # another person's DM is not held back
    now[0] = 1.0
    assert pacer.reserve("T1", "chat.postMessage", "U1") == 0.0
