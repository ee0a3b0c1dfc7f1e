"""`/retro help` and the reply to an unknown subcommand: answered in the ack, so drawn as a plain dict (no
slack_sdk model to validate on every request; tests validate it)."""

from __future__ import annotations

from messages.common import Message
from messages.text import clip, escape


def usage_message(*, unknown: str | None = None) -> Message:
    intro = f"I don't know `/retro {escape(clip(unknown, 100))}`.\n\n" if unknown else ""
    text = intro + USAGE
    return Message(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}]
    )


USAGE = (
    "*Rearview runs asynchronous retrospectives in this channel.*\n"
    "• `/retro new [title]`: start a retro (you become its facilitator)\n"
    "• `/retro status`: who has answered, items so far, time left\n"
    "• `/retro mine`: your own items, to edit or delete until the deadline\n"
    "• `/retro remind`: nudge everyone who has not answered yet (facilitator)\n"
    "• `/retro extend`: change the collection deadline (facilitator)\n"
    "• `/retro invite @person …`: add people to the retro and DM them the survey (facilitator)\n"
    "• `/retro next`: move on: collection → round-robin → voting → results (facilitator)\n"
    "• `/retro skip`, `/retro pause`, `/retro resume`: steer the round-robin (facilitator)\n"
    "• `/retro action <what> @owner [due]`: create an action item; the owner is told by DM\n"
    "• `/retro actions [mine | @person | all]`: open action items with owners and due dates\n"
    "• `/retro close`: close the retro and publish `retrospective.md` (facilitator)\n"
    "• `/retro report [number or title]`: upload a retro's `retrospective.md` again\n"
    "• `/retro escalate #channel [days]`: each Monday, overdue action items and recurring problems to #channel (`off` stops it)\n"
    "• `/retro export [number or title] [csv|json]`: a retro's items, votes, comments and action items, to you by DM\n"
    "• `/retro cancel <reason>`: end the retro without a report (facilitator)\n"
    "• `/retro history`: this channel's last retros with their figures and a chart\n"
    "• `/retro schedule`: retros that run themselves here: a cadence, rotating facilitators, release rules\n"
    "• `/retro tracker`: action items here become GitHub, Jira or webhook tickets (facilitator)\n"
    "• `/retro help`: this message\n"
    "Add items in the kickoff thread or in a DM to me, one per line: `+` went well, `-` went wrong, "
    "`*` or `>` to improve (or the first three categories of the retro's format). Thread replies show your "
    "name; for anonymous items DM me (start with `anon`) or use the *Add item* button."
)
