"""Pacing Slack calls to Slack's published budgets, so that workers defer instead of meeting 429s.

Per workspace and method: Slack's tiers, calls per minute. chat.postMessage has no tier but about one
message per second per channel. A 429 (from another process, or a limit Slack does not publish) blocks
the method until its Retry-After: for chat.postMessage in that channel only, since its limit is per
channel (one busy DM must not hold back a thousand others). Nothing here sleeps: `reserve` answers how long to wait, and the
dispatcher reschedules the delivery by that much.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

TIER_2, TIER_3, TIER_4 = 20, 50, 100
PER_MINUTE: dict[str, int] = {
    "users.list": TIER_2,
    "conversations.open": TIER_3,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "chat.update": TIER_3,
    "reactions.add": TIER_3,
    "files.upload": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.getPermalink": TIER_4,
    "conversations.members": TIER_4,
    "users.info": TIER_4,
    "views.update": TIER_4,
    "views.publish": TIER_4,
}
POST_INTERVAL = 1.0  # chat.postMessage, per channel
WINDOW = 60.0


class Pacer:
    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._last_post: dict[tuple[str, str], float] = {}
        self._blocked: dict[tuple[str, str, str], float] = {}  # (team, method, channel or "")
        # A DM is posted to by user id or by its channel id: both are one conversation to Slack's limit.
        self._dm_of: dict[tuple[str, str], str] = {}  # (team, user id) -> the DM's channel id

    def same_conversation(self, team_id: str, user_id: str, dm_channel: str) -> None:
        """A post to `user_id` landed in `dm_channel`: from now on both are paced as one channel."""
        if user_id != dm_channel and user_id.startswith(("U", "W")):
            with self._lock:
                self._dm_of[(team_id, user_id)] = dm_channel
                # The post just made counted under the user id: it counts for the DM now.
                posted = [
                    self._last_post.pop((team_id, user_id), None),
                    self._last_post.get((team_id, dm_channel)),
                ]
                if any(t is not None for t in posted):
                    self._last_post[(team_id, dm_channel)] = max(t for t in posted if t is not None)

    def _conversation(self, team_id: str, channel: str) -> str:
        return self._dm_of.get((team_id, channel), channel)

    def reserve(self, team_id: str, method: str, channel: str | None = None) -> float:
        """0 and the call is counted, or the seconds to wait before asking again."""
        with self._lock:
            now = self.now()
            channel = self._conversation(team_id, channel) if channel else channel
            until = max(
                self._blocked.get((team_id, method, ""), 0.0),
                self._blocked.get((team_id, method, channel or ""), 0.0),
            )
            if until > now:
                return until - now
            if method == "chat.postMessage" and channel:
                last = self._last_post.get((team_id, channel))
                if last is not None and now - last < POST_INTERVAL:
                    return POST_INTERVAL - (now - last)
                self._last_post[(team_id, channel)] = now
                return 0.0
            limit = PER_MINUTE.get(method)
            if limit is None:
                return 0.0
            calls = self._calls.setdefault((team_id, method), deque())
            while calls and calls[0] + WINDOW <= now:
                calls.popleft()
            if len(calls) >= limit:
                return calls[0] + WINDOW - now
            calls.append(now)
            return 0.0

    def block(self, team_id: str, method: str, seconds: float, channel: str | None = None) -> None:
        """Slack answered 429: nobody in this process calls `method` for this workspace (a post: in this
        channel) until it allows."""
        with self._lock:
            until = self.now() + seconds
            channel = self._conversation(team_id, channel) if channel else channel
            key = (team_id, method, channel if method == "chat.postMessage" and channel else "")
            self._blocked[key] = max(self._blocked.get(key, 0.0), until)
