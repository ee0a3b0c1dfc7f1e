"""Credentials at rest: Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from the deployment's
REARVIEW_SECRET with HKDF, one key per workspace. Without REARVIEW_SECRET there is no box: a key kept in
the same database as what it locks would protect nothing, so trackers are refused until it is set."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class NoSecret(Exception):
    """REARVIEW_SECRET is not set: nothing can be stored encrypted."""


class SecretUnreadable(Exception):
    """A stored credential does not open with this deployment's secret (it changed since)."""


class SecretBox:
    def __init__(self, master_secret: str | None) -> None:
        self.master_secret = master_secret

    @property
    def available(self) -> bool:
        return bool(self.master_secret)

    def _fernet(self, team_id: str) -> Fernet:
        if not self.master_secret:
            raise NoSecret
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"rearview tracker credentials",
            info=f"tracker:{team_id}".encode(),
        ).derive(self.master_secret.encode())
        return Fernet(base64.urlsafe_b64encode(key))

    def seal(self, team_id: str, plain: str) -> str:
        return self._fernet(team_id).encrypt(plain.encode()).decode()

    def open(self, team_id: str, sealed: str) -> str:
        try:
            return self._fernet(team_id).decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable from None
