"""Thin listeners: each area's handlers take a typed request and return what to answer
(bot/listeners/routing.py wires them to Bolt and maps domain errors)."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import (
    action_items,
    collection,
    discussion,
    plans,
    ratings,
    retros,
    routing,
    schedules,
    trackers,
)
from bot.services import Services

AREAS = (
    retros.routes,
    collection.routes,
    discussion.routes,
    action_items.routes,
    plans.routes,
    schedules.routes,
    ratings.routes,
    trackers.routes,
)


def register(app: App, services: Services) -> None:
    routing.wire(app, services, AREAS)
