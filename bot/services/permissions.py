"""Who may do what, with the refusal that says who can."""

from __future__ import annotations

from bot.errors import NotFacilitator
from messages.common import not_facilitator_plain, not_facilitator_text
from storage.models import Retro


def only_facilitator(retro: Retro, user_id: str, may: str, *, may_plain: str | None = None) -> None:
    """Refuse anyone but the retro's facilitator. `may` ends the sentence "Only the facilitator, @them, …",
    as in "can close *Q3*" or "decides on earlier action items"; `may_plain` is the same without markup
    (for a modal's inline error), when `may` has any."""
    if retro.facilitator_id != user_id:
        raise NotFacilitator(
            not_facilitator_text(facilitator_id=retro.facilitator_id, may=may),
            plain=not_facilitator_plain(retro=retro, may=may if may_plain is None else may_plain),
        )
