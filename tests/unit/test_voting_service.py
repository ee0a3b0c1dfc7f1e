"""VotingService: each person's vote limit, what is on the ballot, when it closes, and who notes root causes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.domain import MAX_ROOT_CAUSE_LENGTH
from bot.errors import DomainError, InvalidInput, NotFacilitator
from bot.jobs import JobKind, job_id
from bot.services import Services
from messages.ballot import ballot_of
from messages.results import root_cause_modal
from storage.models import Item, Retro, Vote
from tests.blockkit import mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import add_participants, make_item, make_retro
from tests.recording import RecordingGateway, RecordingJobs


@pytest.fixture
def ballot(engine: Engine, clock: FakeClock) -> tuple[int, list[int]]:
    """A retro voting until tomorrow, two votes each, on three items (and one "went well" not on the ballot)."""
    with Session(engine) as session:
        retro = make_retro(
            session,
            title="Q3 <launch>",
            phase="voting",
            votes_per_person=2,
            voting_deadline=clock() + timedelta(days=1),
            created_at=clock(),
        )
        items = [
            make_item(session, retro_id=retro.id, category=category, text=text, number=number)
            for number, (category, text) in enumerate(
                [("went_wrong", "Flaky CI"), ("to_improve", "Pairing"), ("went_wrong", "Late QA")], 1
            )
        ]
        make_item(session, retro_id=retro.id, category="went_well", text="Fast review", number=4)
        add_participants(session, retro.id, "U1", "U2")
        return retro.id, [i.id for i in items]


def my_votes(engine: Engine, services: Services, retro_id: int, user_id: str) -> set[int]:
    voter = services.voting.keys.author_hash(team_id="T1", retro_id=retro_id, user_id=f"voter:{user_id}")
    with Session(engine) as session:
        return set(session.exec(select(Vote.item_id).where(Vote.voter_hash == voter)).all())


def test_a_person_has_votes_per_person_and_no_more(
    services: Services, engine: Engine, ballot: tuple[int, list[int]]
) -> None:
    retro_id, (first, second, third) = ballot
    vote = services.voting.vote
    vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=first)
    vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=first)  # a double click counts once
    vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=second)
    with pytest.raises(DomainError) as refused:
        vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=third)
    assert refused.value.message == "You have used all 2 votes. Remove one first to vote for this item."
    # Pressing an item already voted for is no new vote, even with none left.
    vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=second)
    assert my_votes(engine, services, retro_id, "U1") == {first, second}
    # Someone else has votes of their own.
    vote(team_id="T1", retro_id=retro_id, user_id="U2", item_id=third)
    vote(team_id="T1", retro_id=retro_id, user_id="U2", item_id=first)
    assert my_votes(engine, services, retro_id, "U2") == {first, third}
    # Taking one back frees it, for that person only.
    services.voting.unvote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=first)
    assert my_votes(engine, services, retro_id, "U2") == {first, third}
    vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=third)
    assert my_votes(engine, services, retro_id, "U1") == {second, third}
    with Session(engine) as session:
        assert all("U1" not in v.voter_hash and "U2" not in v.voter_hash for v in session.exec(select(Vote)))


def test_only_items_on_the_ballot_take_votes(
    services: Services, engine: Engine, clock: FakeClock, ballot: tuple[int, list[int]]
) -> None:
    retro_id, _items = ballot
    with Session(engine) as session:
        went_well = session.exec(select(Item.id).where(Item.category == "went_well")).one()
        other = make_retro(session, channel_id="C2", phase="voting", created_at=clock())
        elsewhere = make_item(session, retro_id=other.id, category="went_wrong").id
    for item_id in (went_well, elsewhere):
        with pytest.raises(DomainError) as refused:
            services.voting.vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=item_id)
        assert refused.value.message == "That item is not on the ballot."
    assert my_votes(engine, services, retro_id, "U1") == set()


def test_the_ballot_closes_at_the_voting_deadline(
    services: Services, engine: Engine, clock: FakeClock, ballot: tuple[int, list[int]]
) -> None:
    retro_id, (first, *_rest) = ballot
    clock.advance(days=1)
    for act in (services.voting.vote, services.voting.unvote):
        with pytest.raises(DomainError) as refused:
            act(team_id="T1", retro_id=retro_id, user_id="U1", item_id=first)
        assert refused.value.message == "Voting for *Q3 &lt;launch&gt;* is closed."
    assert my_votes(engine, services, retro_id, "U1") == set()


def test_only_the_facilitator_notes_root_causes(
    services: Services, engine: Engine, ballot: tuple[int, list[int]]
) -> None:
    _retro_id, (first, second, _third) = ballot
    voting = services.voting
    for who in ("U1", "UFAC "):
        with pytest.raises(NotFacilitator) as refused:
            voting.root_cause_item(team_id="T1", item_id=first, user_id=who)
        assert refused.value.message == "Only the facilitator, <@UFAC>, can add root-cause notes."
        with pytest.raises(NotFacilitator):
            voting.set_root_cause(team_id="T1", item_id=first, user_id=who, text="Nobody owned CI")
    with pytest.raises(DomainError) as gone:
        voting.set_root_cause(team_id="T2", item_id=first, user_id="UFAC", text="Nobody owned CI")
    assert gone.value.message == "That item no longer exists."

    retro, item = voting.root_cause_item(team_id="T1", item_id=second, user_id="UFAC")
    view = root_cause_modal(retro=retro, item=item)
    assert "*#2* Pairing" in mrkdwn_text(view["blocks"])
    voting.set_root_cause(
        team_id="T1", item_id=second, user_id="UFAC", text="  " + "w" * MAX_ROOT_CAUSE_LENGTH
    )
    with pytest.raises(InvalidInput) as invalid:
        voting.set_root_cause(
            team_id="T1", item_id=first, user_id="UFAC", text="w" * (MAX_ROOT_CAUSE_LENGTH + 1)
        )
    assert invalid.value.errors == {"root_cause": "Keep the note under 3,000 characters."}
    with Session(engine) as session:
        notes = {i.id: i.root_cause for i in session.exec(select(Item))}
    assert notes[second] == "w" * MAX_ROOT_CAUSE_LENGTH
    assert notes[first] is None
    voting.set_root_cause(team_id="T1", item_id=second, user_id="UFAC", text="   ")
    with Session(engine) as session:
        assert all(i.root_cause is None for i in session.exec(select(Item)))


def test_voting_opens_once_with_a_ballot_for_everyone_and_a_job_to_close_it(
    services: Services,
    engine: Engine,
    clock: FakeClock,
    gateway: RecordingGateway,
    jobs: RecordingJobs,
    ballot: tuple[int, list[int]],
) -> None:
    retro_id, _items = ballot
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        retro.phase, retro.kickoff_ts = "discussing", "1.1"
        session.add(retro)
        session.commit()  # U1 and U2 take part (the fixture's voters)
    gateway.failures[("chat.postMessage", "U2")] = "user_not_found"
    opened_at = clock()
    assert services.voting.begin(team_id="T1", retro_id=retro_id) is True
    (ballot_dm,) = gateway.messages_to("U1")
    assert ballot_dm["text"] == "Your ballot for Q3 &lt;launch&gt;"
    assert "You have *2 of 2* votes left." in mrkdwn_text(ballot_dm["blocks"])
    (opened,) = gateway.messages_to("C1")
    assert opened["thread_ts"] == "1.1"
    assert ": 3 items on the ballot, 2 votes each." in opened["text"]
    # Who got no ballot is told to the facilitator once, a few seconds later, in one message.
    assert gateway.ephemerals_to("UFAC") == []
    clock.advance(seconds=5)
    assert gateway.ephemerals_to("UFAC") == [
        "I couldn't deliver everything:\n• a ballot to <@U2>: `user_not_found`"
    ]
    assert {p["user_id"] for kind, p in gateway.sent if kind == "home"} == {"UFAC", "U1", "U2"}
    (close,) = jobs.jobs.values()
    assert close.id == job_id(JobKind.CLOSE_VOTING, "T1", retro_id)
    assert (close.run_at, close.args) == (opened_at + timedelta(hours=24), {"retro_id": retro_id})
    sent = len(gateway.sent)
    assert services.voting.begin(team_id="T1", retro_id=retro_id) is False
    assert len(gateway.sent) == sent

    # Closing early (by /retro next) cancels the job, posts the results and updates the facilitator's Home.
    assert services.voting.close(team_id="T1", retro_id=retro_id) is True
    assert jobs.jobs == {}
    kind, payload = gateway.sent[-1]
    assert (kind, payload["user_id"]) == ("home", "UFAC")
    assert "Q3 &lt;launch&gt;" in mrkdwn_text(payload["view"]["blocks"])
    assert any("Voting results" in m["text"] for m in gateway.messages_to("C1"))
    sent = len(gateway.sent)
    assert services.voting.close(team_id="T1", retro_id=retro_id) is False
    assert len(gateway.sent) == sent
    clock.advance(seconds=5)
    assert len(gateway.ephemerals_to("UFAC")) == 1


def test_each_vote_answers_with_the_updated_ballot(services: Services, ballot: tuple[int, list[int]]) -> None:
    retro_id, (first, second, _third) = ballot
    (after_vote,) = ballot_of(
        services.voting.vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=first)
    )
    assert "You have *1 of 2* votes left." in mrkdwn_text(after_vote.blocks)
    assert f"ballot_{first}" in str(after_vote.blocks) and "Remove vote" in str(after_vote.blocks)
    services.voting.vote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=second)
    (after_unvote,) = ballot_of(
        services.voting.unvote(team_id="T1", retro_id=retro_id, user_id="U1", item_id=first)
    )
    assert "You have *1 of 2* votes left." in mrkdwn_text(after_unvote.blocks)
    assert str(after_unvote.blocks).count("Remove vote") == 1


def test_results_rank_by_votes_and_equal_counts_share_a_place(
    services: Services, engine: Engine, ballot: tuple[int, list[int]]
) -> None:
    retro_id, (first, second, third) = ballot
    with Session(engine) as session:
        add_participants(session, retro_id, "U3")
    for user_id, item_id in (("U1", third), ("U2", third), ("U1", second), ("U2", second), ("U3", first)):
        services.voting.vote(team_id="T1", retro_id=retro_id, user_id=user_id, item_id=item_id)
    with Session(engine) as session:
        retro = session.get(Retro, retro_id)
        assert retro is not None
        ranked = [(r.rank, r.tied, r.votes, r.item.id) for r in services.voting.results(session, retro)]
    assert ranked == [(1, True, 2, second), (1, True, 2, third), (3, False, 1, first)]
