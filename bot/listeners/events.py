"""Messages: replies in a retro's kickoff thread and DMs to the bot."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services import Services


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            services.home.publish(team_id=str(body.get("team_id")), user_id=event["user"])

    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        # Edits, deletions, joins and bots' posts (our own included) are not items; a thread reply also
        # sent to the channel and a message with a file are, by their text.
        if event.get("subtype") not in _ITEM_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        team_id = str(body.get("team_id") or event.get("team"))
        channel_id, ts, user_id = event["channel"], event["ts"], event["user"]
        text = str(event.get("text") or "")
        if event.get("channel_type") == "im":
            if _first(services, team_id, body, channel_id, ts):
                services.replies.direct_message(
                    team_id=team_id, channel_id=channel_id, user_id=user_id, text=text
                )
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == ts:
            return
        retro = services.replies.is_retro_thread(team_id=team_id, channel_id=channel_id, thread_ts=thread_ts)
        if retro is not None and _first(services, team_id, body, channel_id, ts):
            services.replies.thread_reply(retro=retro, user_id=user_id, ts=ts, text=text)


_ITEM_SUBTYPES = (None, "thread_broadcast", "file_share")


def _first(services: Services, team_id: str, body: dict[str, Any], channel_id: str, ts: str) -> bool:
    """Slack retries events and can deliver one message twice: act on the first delivery only."""
    keys = [f"message:{channel_id}:{ts}"]
    if body.get("event_id"):
        keys.append(f"event:{body['event_id']}")
    return services.items.first_delivery(team_id=team_id, raw_keys=keys)
