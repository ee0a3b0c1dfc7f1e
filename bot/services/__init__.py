"""The retro domain. Services never import slack_bolt and never wait on Slack: what they want said is
queued in the outbox (bot/outbox.py) with the change that causes it, and timed work goes to Timers.

`Services` (bot/services/container.py) is loaded on first use, so that a tool importing one service (the
CLI's `rearview report`) does not import every service's dependencies (slack_sdk, APScheduler)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.services.container import Services

__all__ = ["Services"]


def __getattr__(name: str) -> Any:
    if name == "Services":
        from bot.services.container import Services

        return Services
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
