"""`/retro help` and unknown subcommands."""

from __future__ import annotations

from messages import usage
from tests.blockkit import assert_valid_message, mrkdwn_text


def test_usage_echoes_an_unknown_subcommand_escaped() -> None:
    message = usage.usage_message(unknown="<!here>")
    assert_valid_message(message.blocks)
    assert message.text.startswith("I don't know `/retro &lt;!here&gt;`.\n\n*Rearview runs")
    assert "/retro new" in message.text
    assert mrkdwn_text(message.blocks) == message.text
    assert usage.usage_message().text == usage.USAGE
    long = usage.usage_message(unknown="y" * 300).text
    assert long.startswith(f"I don't know `/retro {'y' * 99}…`.")
