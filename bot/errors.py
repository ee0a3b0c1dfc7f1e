"""Expected problems, raised by services and turned into Slack answers at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """An expected problem; `message` is mrkdwn addressed to the person who caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """Modal input that cannot be accepted: block_id -> what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NoRetroHere(DomainError):
    pass


class NotFacilitator(DomainError):
    pass


class RetroAlreadyOpen(DomainError):
    pass


class RetroClosed(DomainError):
    pass
