"""Telling one person something, even when the channel route fails."""

from __future__ import annotations

import logging

from bot.gateway import SlackCallFailed, SlackGateway

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
