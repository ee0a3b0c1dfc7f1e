"""Hostile sample text and the expectations the message-builder tests share."""

from __future__ import annotations

EVIL = "<!channel> deploy was <https://evil.example|fine> & <@U999>"
ESCAPED_EVIL = "&lt;!channel&gt; deploy was &lt;https://evil.example|fine&gt; &amp; &lt;@U999&gt;"
# The default retro's deadline (NOW + 2 days) as Slack's date token shows it where it cannot localise.
DEADLINE = "|2026-11-25 09:17 UTC>"
ITEM_BUTTONS = [
    ("survey_open", "7", "Open survey"),
    ("item_add_open", "7", "Add item"),
    ("items_mine", "7", "My items"),
]


def assert_escaped(text: str) -> None:
    """EVIL shows up, once escaped: no ping, no forged link, no mention, and no double escaping."""
    assert ESCAPED_EVIL in text
    for raw in ("<!channel>", "<https://evil", "<@U999>", "fine> & "):
        assert raw not in text
    assert "&amp;lt;" not in text
