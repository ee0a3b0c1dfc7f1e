"""Expected problems, raised by services and turned into Slack answers at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """An expected problem; `message` is mrkdwn addressed to the person who caused it, `plain` the same
    without markup, for where Slack shows plain text (a modal's inline errors)."""

    def __init__(self, message: str, *, plain: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.plain = message if plain is None else plain


class InvalidInput(DomainError):
    """Input that cannot be accepted: field name -> what to fix. The modal's module maps the field
    names to its block ids; a slash command shows the messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NoRetroHere(DomainError):
    pass


class NotFacilitator(DomainError):
    pass


class RetroAlreadyOpen(DomainError):
    pass
