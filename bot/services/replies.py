"""Items that arrive as messages: replies in the kickoff thread and DMs to the bot."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bot.domain import FORMATS, Category, ItemSource
from bot.errors import DomainError, InvalidInput
from bot.intents import Priority
from bot.outbox import Outbox
from bot.parsing import parse_reply
from bot.services.items import ItemService
from messages import common, replies
from messages.items import late_message
from storage.db import unit_of_work
from storage.models import Retro

logger = logging.getLogger(__name__)

CONFIRM_REACTION = "white_check_mark"


@dataclass(frozen=True)
class Picked:
    """Where a picker's text went."""

    retro: Retro
    category: Category


class ReplyService:
    def __init__(self, *, items: ItemService, outbox: Outbox, engine: Engine) -> None:
        self.items = items
        self.outbox = outbox
        self.engine = engine

    # ------------------------------------------------------------ the kickoff thread

    def is_retro_thread(self, *, team_id: str, channel_id: str, thread_ts: str) -> Retro | None:
        return self.items.retro_for_thread(team_id=team_id, channel_id=channel_id, thread_ts=thread_ts)

    def thread_reply(self, *, retro: Retro, user_id: str, ts: str, text: str) -> None:
        assert retro.kickoff_ts is not None
        parsed = parse_reply(text, FORMATS[retro.format])

        def whisper(message: str, message_blocks: list[dict[str, Any]] | None = None) -> None:
            with unit_of_work(self.engine) as session:
                self.outbox.ephemeral(
                    session,
                    team_id=retro.team_id,
                    channel=retro.channel_id,
                    user=user_id,
                    text=message,
                    blocks=message_blocks,
                    thread_ts=retro.kickoff_ts,
                )
                session.commit()

        if parsed.anonymous:
            whisper(replies.NO_ANONYMOUS_THREAD_REPLIES)
            return
        if parsed.items or parsed.unclassified:
            # Slack delivers a thread reply only from someone in the channel: no forged payload can post one.
            # Posting here makes one a participant, so the items and the category picker are accepted.
            self.items.join_from_thread(retro=retro, user_id=user_id)
        if parsed.items:
            try:
                self.items.add(
                    team_id=retro.team_id,
                    retro_id=retro.id,
                    user_id=user_id,
                    entries=parsed.items,
                    wants_anonymous=False,
                    source=ItemSource.THREAD,
                )
            except InvalidInput as exc:
                whisper(_fix_and_resend(exc))
                return
            except DomainError as exc:
                whisper(exc.message)
                return
            with unit_of_work(self.engine) as session:
                self.outbox.react(
                    session, team_id=retro.team_id, channel=retro.channel_id, ts=ts, name=CONFIRM_REACTION
                )
                session.commit()
        if parsed.unclassified:
            picker = self._picker(retro, parsed.unclassified, anonymous=False, source=ItemSource.THREAD)
            if picker is None:
                whisper(replies.TOO_LONG_FOR_PICKER)
            else:
                whisper(picker.text, picker.blocks)

    # ------------------------------------------------------------ direct messages

    def direct_message(self, *, team_id: str, channel_id: str, user_id: str, text: str) -> None:
        retros = self.items.open_retros_for(team_id=team_id, user_id=user_id)
        if not retros:
            latest = self.items.latest_retro_for(team_id=team_id, user_id=user_id)
            self._dm(
                team_id,
                channel_id,
                late_message(latest) if latest is not None else replies.NOT_IN_A_RETRO,
            )
        elif len(retros) > 1:
            if replies.retro_picker_fits(text=text):
                picker = replies.retro_picker(retros=retros, text=text)
                self._dm(team_id, channel_id, picker.text, picker.blocks)
            else:
                self._dm(team_id, channel_id, replies.TOO_LONG_FOR_PICKER)
        else:
            self.add_from_dm(retro=retros[0], channel_id=channel_id, user_id=user_id, text=text)

    def add_from_dm(self, *, retro: Retro, channel_id: str, user_id: str, text: str) -> None:
        """Add what a DM says to `retro`, and answer it in the DM."""
        parsed = parse_reply(text, FORMATS[retro.format])
        if parsed.items:
            try:
                added = self.items.add(
                    team_id=retro.team_id,
                    retro_id=retro.id,
                    user_id=user_id,
                    entries=parsed.items,
                    wants_anonymous=parsed.anonymous,
                    source=ItemSource.DM,
                )
            except InvalidInput as exc:
                self._dm(retro.team_id, channel_id, _fix_and_resend(exc))
                return
            except DomainError as exc:
                self._dm(retro.team_id, channel_id, exc.message)
                return
            retro = added.retro
            self._dm(
                retro.team_id,
                channel_id,
                replies.added_text(retro=retro, count=len(parsed.items), anonymous=added.anonymous),
            )
        if parsed.unclassified:
            picker = self._picker(
                retro, parsed.unclassified, anonymous=parsed.anonymous, source=ItemSource.DM
            )
            if picker is None:
                self._dm(retro.team_id, channel_id, replies.TOO_LONG_FOR_PICKER)
            else:
                self._dm(retro.team_id, channel_id, picker.text, picker.blocks)
        if not parsed.items and not parsed.unclassified:
            self._dm(retro.team_id, channel_id, replies.NO_ITEM_FOUND)

    # ------------------------------------------------------------ answers to the pickers

    def pick_category(self, *, team_id: str, user_id: str, value: str) -> Picked:
        """Store the text a picker carried, in the chosen category. Raises DomainError (its message is
        what the person is told) when it cannot be added."""
        data = json.loads(value)
        lines = [line.strip() for line in str(data["t"]).splitlines() if line.strip()]
        try:
            added = self.items.add(
                team_id=team_id,
                retro_id=int(data["r"]),
                user_id=user_id,
                entries=[(str(data["c"]), line) for line in lines],
                wants_anonymous=bool(data.get("a")),
                source=ItemSource(data.get("s", ItemSource.DM)),
            )
        except InvalidInput as exc:
            raise DomainError(_fix_and_resend(exc)) from exc
        return Picked(added.retro, FORMATS[added.retro.format].category(str(data["c"])))

    def pick_retro(
        self, *, team_id: str, user_id: str, channel_id: str, value: str, response_url: str | None
    ) -> None:
        """Add a DM's text to the retro picked for it. The picker is first replaced by a thank-you (through
        `response_url`), then the DM is answered as if it had gone to that retro."""
        if response_url:
            with unit_of_work(self.engine) as session:
                self.outbox.respond(
                    session,
                    team_id=team_id,
                    response_url=response_url,
                    text=replies.noted_text(),
                    replace_original=True,
                )
                session.commit()
        data = json.loads(value)
        retro = next(
            (
                r
                for r in self.items.open_retros_for(team_id=team_id, user_id=user_id)
                if r.id == int(data["r"])
            ),
            None,
        )
        if retro is None:
            self._dm(team_id, channel_id, replies.NO_LONGER_COLLECTING)
            return
        self.add_from_dm(retro=retro, channel_id=channel_id, user_id=user_id, text=str(data["t"]))

    # ------------------------------------------------------------ helpers

    def _picker(
        self, retro: Retro, lines: list[str], *, anonymous: bool, source: ItemSource
    ) -> common.Message | None:
        text = "\n".join(lines)
        if not replies.picker_fits(
            retro_id=retro.id, category_key=FORMATS[retro.format].categories[-1].key, text=text
        ):
            return None
        return replies.category_picker(retro=retro, text=text, anonymous=anonymous, source=source)

    def _dm(
        self, team_id: str, channel_id: str, text: str, message_blocks: list[dict[str, Any]] | None = None
    ) -> None:
        with unit_of_work(self.engine) as session:
            self.outbox.post(
                session,
                team_id=team_id,
                channel=channel_id,
                text=text,
                blocks=message_blocks,
                priority=Priority.URGENT,
                # An answer to what someone wrote (an anonymous item, its text, when) is not kept once sent.
                extra={"forget": True},
            )
            session.commit()


def _fix_and_resend(exc: InvalidInput) -> str:
    return replies.fix_and_resend_text(problem=next(iter(exc.errors.values())))
