"""Builders for voting: the announcement in the thread and each person's ballot in their DMs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from messages.common import Message, dicts, mrkdwn
from messages.rounds import UNVOTE_ACTION, VOTE_ACTION, item_line, pack
from messages.text import clip, escape, mention, plural, slack_date
from storage.models import Item, Retro

if TYPE_CHECKING:
    from bot.services.voting import Ballot


def voting_open_message(*, retro: Retro, candidates: int) -> Message:
    closes = slack_date(retro.voting_deadline) if retro.voting_deadline else "when the facilitator closes it"
    text = (
        f":ballot_box_with_ballot: *Voting is open* until {closes}: {plural(candidates, 'item')} on the ballot, "
        f"{plural(retro.votes_per_person, 'vote')} each. Your ballot is in your DMs; you can change your votes "
        "until voting closes."
    )
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def ballot_messages(
    *, retro: Retro, candidates: Sequence[Item], voted: set[int], now: datetime
) -> list[Message]:
    left = retro.votes_per_person - len(voted)
    closes = slack_date(retro.voting_deadline) if retro.voting_deadline else "soon"
    header: list[Block] = [
        mrkdwn(f":ballot_box_with_ballot: *Your ballot for {escape(retro.title)}*"),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"You have *{left} of {retro.votes_per_person}* votes left. Voting closes {closes}."
                )
            ]
        ),
    ]
    body: list[Block] = []
    for item in sorted(candidates, key=lambda i: i.number or 0):
        mine = item.id in voted
        body.append(
            SectionBlock(
                block_id=f"ballot_{item.id}",
                text=MarkdownTextObject(
                    text=clip(("✅ " if mine else "") + item_line(retro, item, with_author=False), 3000)
                ),
                accessory=ButtonElement(
                    text="Remove vote" if mine else "Vote",
                    action_id=UNVOTE_ACTION if mine else VOTE_ACTION,
                    value=f"{retro.id}:{item.id}",
                    style=None if mine else "primary",
                ),
            )
        )
    if not body:
        body.append(mrkdwn("_There is nothing to vote on._"))
    return pack(header, body, text=f"Your ballot for {escape(retro.title)}")


def ballot_of(ballot: Ballot) -> list[Message]:
    """A person's ballot as it stands, in as many messages as it takes."""
    return ballot_messages(
        retro=ballot.retro, candidates=ballot.candidates, voted=ballot.voted, now=ballot.now
    )


def ballot_what(*, user_id: str) -> str:
    """How a ballot is named to the facilitator if it cannot be delivered."""
    return f"a ballot to {mention(user_id)}"


def voting_closed_text(*, retro: Retro) -> str:
    return f"Voting for *{escape(retro.title)}* is closed."


def not_a_voter_text(*, retro: Retro, facilitator_id: str | None, facilitator_name: str = "") -> str:
    """Someone outside the retro pressed Vote (mrkdwn with a mention, or plain for a modal)."""
    who = mention(facilitator_id) if facilitator_id else (facilitator_name or "the facilitator")
    title = f"*{escape(retro.title)}*" if facilitator_id else retro.title
    return (
        f"Only the facilitator and the participants of {title} vote on its items: ask {who} to include you."
    )
