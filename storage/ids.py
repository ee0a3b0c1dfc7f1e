"""Random row ids for what people contribute (items, survey responses, comments, votes).

Sequential ids keep the order rows were written in, and that order is who answered when: a reader of the
database who sorts anonymous items by id and participants by when they answered pairs them up. Random
63-bit ids keep nothing; a batch's ids are drawn together and sorted, so one person's lines keep the order
they typed them in without saying anything about anybody else's.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Integer, delete, insert, select
from sqlalchemy.types import TypeEngine
from sqlmodel import Session

# 64-bit on PostgreSQL; on SQLite an `INTEGER PRIMARY KEY` (already 64-bit) stays the rowid.
ROW_ID: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

_random = random.SystemRandom()


def random_id() -> int:
    return _random.randrange(1, 2**63)


def random_ids(count: int) -> list[int]:
    """`count` random ids, ascending: assigned in order, they keep a batch's own order."""
    return sorted(random_id() for _ in range(count))


def rewrite_in_random_order(session: Session, model: Any, ids: Iterable[int]) -> None:
    """Delete these rows and insert them again (same ids, same values) in random order, in the caller's
    transaction: rows written one at a time become one batch. On PostgreSQL each row then carries this
    transaction's id (`xmin`) instead of the one it shared with the row saying who answered, and its place
    on disk (`ctid`, and so the order an index returns it in) is random instead of the order people
    answered in. An UPDATE would not do: PostgreSQL keeps an updated row's index entries where they were.
    Nothing may reference these rows yet."""
    wanted = list(ids)
    if not wanted:
        return
    table = model.__table__
    found = [dict(row) for row in session.execute(select(table).where(table.c.id.in_(wanted))).mappings()]
    _random.shuffle(found)
    session.execute(delete(table).where(table.c.id.in_(wanted)))
    for row in found:
        session.execute(insert(table).values(**row))
