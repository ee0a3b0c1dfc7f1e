"""The database reader: someone with SQL access (a backup, a read replica, a curious DBA) who wants to know
who wrote an anonymous item, comment or vote.

Two retros run through the real services with people acting in a known order: one where each person
chooses (some anonymous, some named), one always anonymous with a round-robin. Then the reader, with
nothing but SQL, tries every linking strategy the issue names: anonymous rows ordered by id, by time or by
number against the order people answered (`responded_at`, turn positions, the order they were seen
voting), times equal to a turn's end or to an answer's hour, id adjacency to named rows, author-hash joins
across tables, and on PostgreSQL the transaction id (`xmin`) and physical order (`ctid`) of each row.

A strategy links when it names the right person for more than half of the anonymous contributions it
looks at; chance names about one. The ids' randomness and the turn order are seeded so the outcome is
the same on every run (the property under test is that order is not kept, not a lucky draw).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

import storage.ids
from bot.domain import ItemSource
from bot.services import Services
from bot.services.kudos import KudosDraft
from bot.services.surveys import SurveyAnswers
from storage.models import Participant
from tests.conftest import FakeClock
from tests.factories import make_retro
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

TEAM = "T1"


@pytest.fixture
def services(engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setattr(storage.ids, "_random", random.Random(1207))
    built = build_services(engine, clock, RecordingGateway(), RecordingJobs())
    built.round_robin.rng = random.Random(12)
    return built


@dataclass
class Truth:
    """What only the test knows: who wrote what, and the order people acted in."""

    item_authors: dict[str, str] = field(default_factory=dict)  # item text -> user id
    comment_authors: dict[str, str] = field(default_factory=dict)  # comment text -> user id
    voting_order: list[str] = field(default_factory=list)  # the order people were seen voting in
    voter_of_items: dict[str, frozenset[str]] = field(default_factory=dict)  # user id -> item texts voted
    rating_order: list[str] = field(default_factory=list)  # the order people rated the retro in (ROTI)
    rater_of_hash: dict[str, str] = field(default_factory=dict)  # rater hash -> user id
    kudos_givers: dict[str, str] = field(default_factory=dict)  # kudos text -> who gave it in their turn


def add_people(engine: Engine, retro_id: int, people: list[str]) -> None:
    with Session(engine) as session:
        for user in people:
            session.add(Participant(team_id=TEAM, retro_id=retro_id, user_id=user, display_name=user))
        session.commit()


def tick(clock: FakeClock, minutes: int) -> None:
    clock.advance(minutes=minutes)


def run_optional_retro(services: Services, engine: Engine, clock: FakeClock) -> tuple[int, Truth]:
    """Fourteen people; ten answer anonymously, four by name, in a known order, some also through Add item;
    then the round-robin is skipped and everyone votes, in a known order."""
    truth = Truth()
    with Session(engine) as session:
        retro_id = make_retro(
            session,
            anonymity="optional",
            created_at=clock(),
            deadline=clock() + timedelta(days=3),
            votes_per_person=2,
        ).id
    people = [f"UA{n:02}" for n in range(1, 15)]
    add_people(engine, retro_id, people)
    order = people[:]
    random.Random(3).shuffle(order)
    named = set(order[2::4]) | {order[13]}  # four named, ten anonymous
    for n, user in enumerate(order):
        tick(clock, 11 + n % 5)
        anonymous = user not in named
        wrong, better = f"{user} wrong {n}", f"{user} improve {n}"
        services.surveys.submit(
            team_id=TEAM,
            retro_id=retro_id,
            user_id=user,
            answers=SurveyAnswers(
                items={"went_well": f"{user} well", "went_wrong": wrong, "to_improve": better},
                smoothness=1 + n % 10,
                surprise=None,
                anonymous=anonymous,
            ),
        )
        truth.item_authors.update({f"{user} well": user, wrong: user, better: user})
        if n % 3 == 0:
            tick(clock, 2)
            extra = f"{user} extra"
            services.items.add(
                team_id=TEAM,
                retro_id=retro_id,
                user_id=user,
                entries=[("went_wrong", extra)],
                wants_anonymous=anonymous,
                source=ItemSource.MODAL,
            )
            truth.item_authors[extra] = user
    tick(clock, 30)
    services.round_robin.begin(team_id=TEAM, retro_id=retro_id)
    tick(clock, 30)
    services.voting.begin(team_id=TEAM, retro_id=retro_id)
    ballot = services.voting.ballot(team_id=TEAM, retro_id=retro_id, user_id=people[0]).candidates
    voters = people[:]
    random.Random(5).shuffle(voters)
    for n, user in enumerate(voters):
        tick(clock, 4)
        chosen = [ballot[(n * 3) % len(ballot)], ballot[(n * 5 + 1) % len(ballot)]]
        for item in chosen:
            services.voting.vote(team_id=TEAM, retro_id=retro_id, user_id=user, item_id=item.id)
        truth.voting_order.append(user)
        truth.voter_of_items[user] = frozenset(i.text for i in chosen)
    services.voting.close(team_id=TEAM, retro_id=retro_id)
    # Closed; then everyone rates it ("worth your time?"), in a known order, some changing their minds.
    tick(clock, 60)
    services.closing.close_by_id(team_id=TEAM, retro_id=retro_id, user_id="UFAC")
    raters = people[:]
    random.Random(9).shuffle(raters)
    for n, user in enumerate(raters):
        tick(clock, 7)
        services.roti.rate(team_id=TEAM, retro_id=retro_id, user_id=user, score=1 + n % 5)
        if n % 4 == 0:
            services.roti.rate(team_id=TEAM, retro_id=retro_id, user_id=user, score=5 - n % 5)
        truth.rating_order.append(user)
        rater = services.roti.keys.author_hash(team_id=TEAM, retro_id=retro_id, user_id=f"roti:{user}")
        truth.rater_of_hash[rater] = user
    return retro_id, truth


def run_anonymous_retro(services: Services, engine: Engine, clock: FakeClock) -> tuple[int, Truth]:
    """Thirty people, always anonymous: everyone answers the survey, then in the round-robin a third
    comment, a third add an item and a third pass."""
    truth = Truth()
    with Session(engine) as session:
        retro_id = make_retro(
            session,
            channel_id="C2",
            anonymity="anonymous",
            created_at=clock(),
            deadline=clock() + timedelta(days=3),
        ).id
    people = [f"UB{n:02}" for n in range(1, 31)]
    add_people(engine, retro_id, people)
    for user in people:
        tick(clock, 4)
        services.surveys.submit(
            team_id=TEAM,
            retro_id=retro_id,
            user_id=user,
            answers=SurveyAnswers(
                items={"went_wrong": f"{user} survey"}, smoothness=5, surprise=None, anonymous=True
            ),
        )
        truth.item_authors[f"{user} survey"] = user
    tick(clock, 30)
    services.round_robin.begin(team_id=TEAM, retro_id=retro_id)
    with engine.connect() as connection:
        turns = connection.execute(
            text("SELECT id, user_id FROM turn WHERE retro_id = :r ORDER BY position"), {"r": retro_id}
        ).all()
    for position, (turn_id, user) in enumerate(turns):
        tick(clock, 15)
        start_if_waiting(services, engine, clock, retro_id, turn_id)
        if position % 3 == 0:
            tick(clock, 3)
            services.kudos.give(
                team_id=TEAM, retro_id=retro_id, user_id=user, draft=KudosDraft("UFAC", f"{user} thanks")
            )
            truth.kudos_givers[f"{user} thanks"] = user
            tick(clock, 3)
            services.turns.comment(
                team_id=TEAM, turn_id=turn_id, user_id=user, item_number=1 + position % 5, text=f"{user} says"
            )
            truth.comment_authors[f"{user} says"] = user
        elif position % 3 == 1:
            services.turns.add(
                team_id=TEAM, turn_id=turn_id, user_id=user, category="to_improve", text=f"{user} adds"
            )
            truth.item_authors[f"{user} adds"] = user
        else:
            services.turns.pass_turn(team_id=TEAM, turn_id=turn_id, user_id=user)
    return retro_id, truth


def start_if_waiting(
    services: Services, engine: Engine, clock: FakeClock, retro_id: int, turn_id: int
) -> None:
    """A turn that waits for the person's morning starts when the clock gets there."""
    with engine.connect() as connection:
        status, starts_at = connection.execute(
            text("SELECT status, starts_at FROM turn WHERE id = :t"), {"t": turn_id}
        ).one()
    if status == "scheduled":
        clock.now = max(clock(), truncate(starts_at, "second").replace(tzinfo=clock().tzinfo))
        services.round_robin.turn_start_due(team_id=TEAM, retro_id=retro_id, turn_id=turn_id)


# ---------------------------------------------------------------- the reader: SQL only


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params).all())


def key(value: Any) -> Any:
    """Sort key for a column that may be a timestamp, a number or a PostgreSQL system column."""
    return (str(value) if isinstance(value, datetime) else value) if value is not None else 0


Guess = dict[str, str]  # anonymous group (author hash) or row text -> the person the reader names


def by_rank(groups: dict[str, Any], people_in_order: list[str]) -> Guess:
    """The k-th group by the given sort value belongs to the k-th person in order."""
    ranked = sorted(groups, key=lambda g: key(groups[g]))
    return dict(zip(ranked, people_in_order, strict=False))


def postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def item_strategies(engine: Engine, retro_id: int) -> Iterator[tuple[str, Guess]]:
    """Each strategy names a person for each anonymous author hash of the retro's survey-time items."""
    system = ", xmin::text::bigint AS xmin, ctid::text AS ctid" if postgres(engine) else ", rowid AS xmin, 0"
    items = rows(
        engine,
        f"SELECT id, author_id, author_hash, created_at, number, source{system} FROM item "
        "WHERE retro_id = :r AND source != 'round_robin'",
        r=retro_id,
    )
    people = rows(
        engine,
        f"SELECT user_id, responded_at{system} FROM participant WHERE retro_id = :r "
        "AND responded_at IS NOT NULL ORDER BY responded_at, id",
        r=retro_id,
    )
    named = {i.author_id for i in items if i.author_id}
    anonymous_people = [p.user_id for p in people if p.user_id not in named]
    groups: dict[str, list[Any]] = defaultdict(list)
    for i in items:
        if i.author_hash:
            groups[i.author_hash].append(i)

    for column in ("id", "created_at", "number", "xmin"):
        yield (
            f"anonymous items by {column} against responded_at",
            by_rank(
                {h: min(key(getattr(i, column)) for i in g) for h, g in groups.items()}, anonymous_people
            ),
        )
    # Id adjacency: named items are anchors; an anonymous group between two named people's items is the
    # anonymous responder who answered between them.
    everyone = [p.user_id for p in people]
    slots = {h: min(i.id for i in g) for h, g in groups.items()}
    slots.update({a: min(i.id for i in items if i.author_id == a) for a in named})
    ranked = sorted(slots, key=lambda s: slots[s])
    yield (
        "id adjacency to named items",
        {s: everyone[n] for n, s in enumerate(ranked) if s in groups and n < len(everyone)},
    )
    # Time equality: the one person who answered at the item's time, to the second or to the hour.
    for precision in ("second", "hour"):
        guess: Guess = {}
        for h, g in groups.items():
            when = {truncate(i.created_at, precision) for i in g}
            matches = [p.user_id for p in people if truncate(p.responded_at, precision) in when]
            if len(matches) == 1:
                guess[h] = matches[0]
        yield f"item created_at equals responded_at to the {precision}", guess
    if postgres(engine):
        # Rows written in one transaction share xmin: an anonymous item or response written with the
        # participant row it marked as answered.
        responses = rows(engine, f"SELECT author_hash{system} FROM response WHERE retro_id = :r", r=retro_id)
        by_xmin = {p.xmin: p.user_id for p in people}
        guess = {}
        for h, g in groups.items():
            for xmin in [i.xmin for i in g] + [r.xmin for r in responses if r.author_hash == h]:
                if xmin in by_xmin:
                    guess[h] = by_xmin[xmin]
        yield "same transaction (xmin) as the participant row", guess
        yield (
            "anonymous items by physical order (ctid)",
            by_rank({h: min(ctid_order(i.ctid) for i in g) for h, g in groups.items()}, anonymous_people),
        )


def ctid_order(ctid: str) -> tuple[int, int]:
    page, line = ctid.strip("()").split(",")
    return int(page), int(line)


def truncate(raw: datetime | str | None, precision: str) -> Any:
    if raw is None:
        return None
    value = (raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)).replace(
        microsecond=0, tzinfo=None
    )
    return value.replace(minute=0, second=0) if precision == "hour" else value


def round_robin_strategies(engine: Engine, retro_id: int) -> Iterator[tuple[str, str, Guess]]:
    """(what, strategy, guess): comments and items added in turns, named by row text."""
    system = ", xmin::text::bigint AS xmin" if postgres(engine) else ", rowid AS xmin"
    turns = rows(
        engine,
        f"SELECT user_id, position, status, ended_at{system} FROM turn WHERE retro_id = :r ORDER BY position",
        r=retro_id,
    )
    answered = [t for t in turns if t.status == "answered"]
    comments = rows(
        engine,
        f"SELECT id, text, author_hash, created_at{system} FROM comment WHERE retro_id = :r",
        r=retro_id,
    )
    added = rows(
        engine,
        f"SELECT id, text, author_hash, created_at, number{system} FROM item "
        "WHERE retro_id = :r AND source = 'round_robin'",
        r=retro_id,
    )
    # The reader is granted which turns commented and which added (say, from watching the thread).
    commenters = [t.user_id for n, t in enumerate(turns) if n % 3 == 0]
    adders = [t.user_id for n, t in enumerate(turns) if n % 3 == 1]
    for column in ("id", "created_at", "xmin"):
        yield (
            "comment",
            f"comments by {column} against turn order",
            by_rank({c.text: getattr(c, column) for c in comments}, commenters),
        )
        yield (
            "round-robin item",
            f"added items by {column} against turn order",
            by_rank({i.text: getattr(i, column) for i in added}, adders),
        )
    yield (
        "round-robin item",
        "added items by number against turn order",
        by_rank({i.text: i.number or 0 for i in added}, adders),
    )
    # Everything answered, merged by time then id, against the answered turns in order.
    merged = {c.text: (key(c.created_at), c.id) for c in comments} | {
        i.text: (key(i.created_at), i.id) for i in added
    }
    yield (
        "comment or round-robin item",
        "answers by time against answered turns",
        by_rank(merged, [t.user_id for t in answered]),
    )
    for what, found in (("comment", comments), ("round-robin item", added)):
        for precision in ("second", "hour"):
            guess: Guess = {}
            for row in found:
                matches = [
                    t.user_id
                    for t in answered
                    if truncate(t.ended_at, precision) == truncate(row.created_at, precision)
                ]
                if len(matches) == 1:
                    guess[row.text] = matches[0]
            yield what, f"created_at equals the turn's ended_at to the {precision}", guess
        if postgres(engine):
            by_xmin = {t.xmin: t.user_id for t in turns}
            yield (
                what,
                "same transaction (xmin) as the turn row",
                {r.text: by_xmin[r.xmin] for r in found if r.xmin in by_xmin},
            )
    # Author-hash joins: a comment's hash shared with survey items or responses ties them together.
    hashes = {h for (h,) in rows(engine, "SELECT author_hash FROM item WHERE retro_id = :r", r=retro_id)}
    hashes |= {h for (h,) in rows(engine, "SELECT author_hash FROM response WHERE retro_id = :r", r=retro_id)}
    joined = [c for c in comments if c.author_hash in hashes]
    yield "comment", "comment author_hash joins an item or response", {c.text: "joined" for c in joined}


def vote_strategies(engine: Engine, retro_id: int, voting_order: list[str]) -> Iterator[tuple[str, Guess]]:
    system = ", xmin::text::bigint AS xmin" if postgres(engine) else ", rowid AS xmin"
    votes = rows(
        engine, f"SELECT id, voter_hash, created_at{system} FROM vote WHERE retro_id = :r", r=retro_id
    )
    groups: dict[str, list[Any]] = defaultdict(list)
    for v in votes:
        groups[v.voter_hash].append(v)
    for column in ("id", "created_at", "xmin"):
        yield (
            f"voters by first vote's {column} against the order they voted in",
            by_rank({h: min(key(getattr(v, column)) for v in g) for h, g in groups.items()}, voting_order),
        )


def rating_strategies(engine: Engine, retro_id: int, rating_order: list[str]) -> Iterator[tuple[str, Guess]]:
    """ROTI ratings against the order people rated in (granted to the reader), by every column."""
    system = (
        ", xmin::text::bigint AS xmin, ctid::text AS ctid"
        if postgres(engine)
        else ", rowid AS xmin, 0 AS ctid"
    )
    ratings = rows(
        engine, f"SELECT id, voter_hash, created_at{system} FROM roti_rating WHERE retro_id = :r", r=retro_id
    )
    for column in ("id", "created_at", "xmin"):
        yield (
            f"raters by {column} against the order they rated in",
            by_rank({r.voter_hash: key(getattr(r, column)) for r in ratings}, rating_order),
        )
    if postgres(engine):
        yield (
            "raters by physical order (ctid)",
            by_rank({r.voter_hash: ctid_order(r.ctid) for r in ratings}, rating_order),
        )
    # A rater hash shared with any other anonymous row (an item's, a response's, a vote's) would join them.
    others = {h for (h,) in rows(engine, "SELECT author_hash FROM item WHERE retro_id = :r", r=retro_id)}
    others |= {h for (h,) in rows(engine, "SELECT author_hash FROM response WHERE retro_id = :r", r=retro_id)}
    others |= {h for (h,) in rows(engine, "SELECT voter_hash FROM vote WHERE retro_id = :r", r=retro_id)}
    yield (
        "rater hash joins an item, response or vote",
        {r.voter_hash: "joined" for r in ratings if r.voter_hash in others},
    )


def kudos_strategies(
    engine: Engine, retro_id: int, givers_in_order: list[str]
) -> Iterator[tuple[str, Guess]]:
    """Kudos given in turns of an anonymous retro, against the order of the turns that gave them."""
    system = ", xmin::text::bigint AS xmin" if postgres(engine) else ", rowid AS xmin"
    given = rows(
        engine,
        f"SELECT id, text, from_user_id, created_at{system} FROM kudos WHERE retro_id = :r AND source = 'round_robin'",
        r=retro_id,
    )
    yield "kudos naming their giver", {k.text: k.from_user_id for k in given if k.from_user_id}
    for column in ("id", "created_at", "xmin"):
        yield (
            f"kudos by {column} against turn order",
            by_rank({k.text: key(getattr(k, column)) for k in given}, givers_in_order),
        )


def linked(guess: Guess, truth: Callable[[str], str | None]) -> int:
    return sum(1 for row, person in guess.items() if truth(row) == person)


def assert_chance(failures: list[str], what: str, strategy: str, right: int, out_of: int) -> None:
    if out_of and right > out_of // 2:
        failures.append(f"{what}: {strategy} linked {right} of {out_of}")


def hash_owner(engine: Engine, retro_id: int, truth: Truth) -> Callable[[str], str | None]:
    owners = {
        h: truth.item_authors.get(t)
        for h, t in rows(engine, "SELECT author_hash, text FROM item WHERE retro_id = :r", r=retro_id)
    }
    return owners.get


# ---------------------------------------------------------------- the test


def test_a_database_reader_cannot_tell_who_wrote_what(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    failures: list[str] = []

    optional_id, optional = run_optional_retro(services, engine, clock)
    owner = hash_owner(engine, optional_id, optional)
    anonymous_groups = len(
        rows(
            engine,
            "SELECT DISTINCT author_hash FROM item WHERE retro_id = :r AND author_hash IS NOT NULL",
            r=optional_id,
        )
    )
    assert anonymous_groups == 10
    for strategy, guess in item_strategies(engine, optional_id):
        assert_chance(failures, "anonymous items", strategy, linked(guess, owner), anonymous_groups)

    voters = {
        frozenset(
            t
            for (t,) in rows(
                engine,
                "SELECT item.text FROM vote JOIN item ON item.id = vote.item_id WHERE vote.voter_hash = :h",
                h=h,
            )
        ): h
        for (h,) in rows(engine, "SELECT DISTINCT voter_hash FROM vote WHERE retro_id = :r", r=optional_id)
    }
    assert len(voters) == len(optional.voting_order)
    voter_owner = {voters[texts]: user for user, texts in optional.voter_of_items.items() if texts in voters}
    for strategy, guess in vote_strategies(engine, optional_id, optional.voting_order):
        assert_chance(failures, "votes", strategy, linked(guess, voter_owner.get), len(optional.voting_order))

    raters = len(optional.rating_order)
    assert len(rows(engine, "SELECT id FROM roti_rating WHERE retro_id = :r", r=optional_id)) == raters
    for strategy, guess in rating_strategies(engine, optional_id, optional.rating_order):
        if strategy.startswith("rater hash joins"):
            if guess:
                failures.append(f"ratings: {strategy} for {len(guess)} raters")
            continue
        assert_chance(failures, "ratings", strategy, linked(guess, optional.rater_of_hash.get), raters)

    anonymous_id, anonymous = run_anonymous_retro(services, engine, clock)
    owner = hash_owner(engine, anonymous_id, anonymous)
    for strategy, guess in item_strategies(engine, anonymous_id):
        assert_chance(failures, "anonymous items", strategy, linked(guess, owner), 30)
    authors = anonymous.comment_authors | anonymous.item_authors
    for what, strategy, guess in round_robin_strategies(engine, anonymous_id):
        if strategy.startswith("comment author_hash"):
            if guess:
                failures.append(f"{what}: {strategy} for {len(guess)} comments")
            continue
        out_of = {"comment": 10, "round-robin item": 10}.get(what, 20)
        assert_chance(failures, what, strategy, linked(guess, authors.get), out_of)

    givers = [u for u in (t for (t,) in rows(engine, "SELECT user_id FROM turn WHERE retro_id = :r ORDER BY position",
                                                r=anonymous_id)) if u in anonymous.kudos_givers.values()]  # fmt: skip
    assert len(givers) == len(anonymous.kudos_givers) == 10
    for strategy, guess in kudos_strategies(engine, anonymous_id, givers):
        assert_chance(
            failures, "turn kudos", strategy, linked(guess, anonymous.kudos_givers.get), len(givers)
        )

    assert failures == [], "\n".join(failures)
