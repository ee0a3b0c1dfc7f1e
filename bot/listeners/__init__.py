"""Thin listeners: ack, pull typed values from the payload, call one service."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, commands, events, views
from bot.services import Services


def register(app: App, services: Services) -> None:
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    events.register(app, services)
