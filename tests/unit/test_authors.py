"""AuthorKeys: the keyed hashes that let an anonymous author find their own items and nobody else link them.

Hashes are stored: the derivation is pinned, or every anonymous author would lose their items on upgrade."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.services.authors import AuthorKeys
from storage.models import WorkspaceSecret

SECRET = "s" * 32


def expected(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def test_with_a_master_secret_the_hash_is_an_hmac_under_a_per_workspace_key(engine: Engine) -> None:
    keys = AuthorKeys(engine=engine, master_secret=SECRET)
    workspace_key = hmac.new(SECRET.encode(), b"T1", hashlib.sha256).digest()
    digest = keys.author_hash(team_id="T1", retro_id=7, user_id="U1")
    assert digest == expected(workspace_key, "author:7:U1")
    assert keys.event_key(team_id="T1", raw="Ev1") == expected(workspace_key, "event:Ev1")
    # Nothing that anyone could recompute without the secret, and nothing stored beside the hashes.
    assert "U1" not in digest
    assert digest != hashlib.sha256(b"author:7:U1").hexdigest()
    assert digest != expected(SECRET.encode(), "author:7:U1")
    with Session(engine) as session:
        assert session.exec(select(WorkspaceSecret)).all() == []


def test_hashes_differ_by_retro_workspace_person_and_secret(engine: Engine) -> None:
    keys = AuthorKeys(engine=engine, master_secret=SECRET)
    digest = keys.author_hash(team_id="T1", retro_id=7, user_id="U1")
    others = {
        keys.author_hash(team_id="T1", retro_id=8, user_id="U1"),  # one person's retros cannot be linked
        keys.author_hash(team_id="T2", retro_id=7, user_id="U1"),
        keys.author_hash(team_id="T1", retro_id=7, user_id="U2"),
        keys.event_key(team_id="T1", raw="author:7:U1"),
        AuthorKeys(engine=engine, master_secret="t" * 32).author_hash(team_id="T1", retro_id=7, user_id="U1"),
    }
    assert digest not in others
    assert len(others) == 5
    # The same person finds their items again, in this process and the next.
    assert keys.author_hash(team_id="T1", retro_id=7, user_id="U1") == digest
    assert AuthorKeys(engine=engine, master_secret=SECRET).author_hash(
        team_id="T1", retro_id=7, user_id="U1"
    ) == (digest)


def test_without_a_master_secret_each_workspace_gets_a_random_key_stored_once(engine: Engine) -> None:
    keys = AuthorKeys(engine=engine, master_secret=None)
    digest = keys.author_hash(team_id="T1", retro_id=7, user_id="U1")
    other_team = keys.author_hash(team_id="T2", retro_id=7, user_id="U1")
    with Session(engine) as session:
        stored = {s.team_id: s.value for s in session.exec(select(WorkspaceSecret)).all()}
    assert set(stored) == {"T1", "T2"}
    assert stored["T1"] != stored["T2"]
    assert len(bytes.fromhex(stored["T1"])) == 32
    assert digest == expected(bytes.fromhex(stored["T1"]), "author:7:U1")
    assert other_team == expected(bytes.fromhex(stored["T2"]), "author:7:U1")
    # A restarted process reads the stored key instead of making a new one.
    again = AuthorKeys(engine=engine, master_secret=None)
    assert again.author_hash(team_id="T1", retro_id=7, user_id="U1") == digest
    with Session(engine) as session:
        assert len(session.exec(select(WorkspaceSecret)).all()) == 2
