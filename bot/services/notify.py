"""Telling one person something, even when the channel route fails."""

from __future__ import annotations

import logging

from bot.gateway import SlackCallFailed, SlackGateway
from messages.blocks import Message
from messages.text import escape
from storage.models import Retro

logger = logging.getLogger(__name__)


def tell(gateway: SlackGateway, *, user: str, channel: str | None, text: str) -> None:
    """Ephemeral in the channel when possible, otherwise a DM; a failure is logged, never raised."""
    if channel is not None:
        try:
            gateway.post_ephemeral(channel=channel, user=user, text=text)
            return
        except SlackCallFailed:
            pass
    try:
        gateway.post_message(channel=user, text=text)
    except SlackCallFailed as exc:
        logger.error("could not tell %s anything: %s", user, exc.error)


def post_in_thread(gateway: SlackGateway, retro: Retro, message: Message) -> None:
    """Post in the retro's kickoff thread; if Slack refuses, the facilitator hears it by DM."""
    try:
        gateway.post_message(
            channel=retro.channel_id, thread_ts=retro.kickoff_ts, text=message.text, blocks=message.blocks
        )
    except SlackCallFailed as exc:
        tell(
            gateway,
            user=retro.facilitator_id,
            channel=None,
            text=f"I couldn't post in the thread of *{escape(retro.title)}* (`{escape(exc.error)}`).",
        )
