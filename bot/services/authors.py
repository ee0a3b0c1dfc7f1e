"""Keyed hashes that let anonymous authors find their own items, and nobody else find them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from storage.db import unit_of_work
from storage.models import WorkspaceSecret


class AuthorKeys:
    """HMAC-SHA256 under a per-workspace key: from REARVIEW_SECRET, or generated once and stored.

    A stored key sits in the same database as the hashes, so whoever reads the whole database could test
    user ids against them; REARVIEW_SECRET keeps the key out of the database.
    """

    def __init__(self, *, engine: Engine, master_secret: str | None) -> None:
        self.engine = engine
        self.master_secret = master_secret
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def author_hash(self, *, team_id: str, retro_id: int, user_id: str) -> str:
        """Per retro, so hashes cannot link one person's anonymous items across retros."""
        return self._hmac(team_id, f"author:{retro_id}:{user_id}")

    def event_key(self, *, team_id: str, raw: str) -> str:
        return self._hmac(team_id, f"event:{raw}")

    def _hmac(self, team_id: str, message: str) -> str:
        return hmac.new(self._key(team_id), message.encode(), hashlib.sha256).hexdigest()

    def _key(self, team_id: str) -> bytes:
        with self._lock:
            if team_id not in self._keys:
                self._keys[team_id] = self._load_key(team_id)
            return self._keys[team_id]

    def _load_key(self, team_id: str) -> bytes:
        if self.master_secret is not None:
            return hmac.new(self.master_secret.encode(), team_id.encode(), hashlib.sha256).digest()
        with unit_of_work(self.engine) as session:
            stored = session.get(WorkspaceSecret, team_id)
            if stored is None:
                session.add(WorkspaceSecret(team_id=team_id, value=secrets.token_hex(32)))
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()  # another process generated it first: use theirs
                stored = session.get(WorkspaceSecret, team_id)
            assert stored is not None
            return bytes.fromhex(stored.value)
