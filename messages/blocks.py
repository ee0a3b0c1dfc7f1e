"""Block Kit builders. Pure functions; every user-written string goes through `escape` or plain_text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DateTimePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import (
    FORMATS,
    MAX_ITEM_LENGTH,
    MAX_TITLE_LENGTH,
    PRIME_DIRECTIVE,
    Phase,
    RetroFormat,
    RetroStats,
)
from messages.text import channel_link, clip, escape, mention, slack_date, time_left
from storage.models import Retro

# callback and action ids: the contract between builders and listeners.
NEW_RETRO_CALLBACK = "retro_new"
SURVEY_CALLBACK = "survey_submit"
OPEN_SURVEY_ACTION = "survey_open"

NEW_TITLE_BLOCK = "title"
NEW_PARTICIPANTS_BLOCK = "participants"
NEW_DEADLINE_BLOCK = "deadline"
NEW_FORMAT_BLOCK = "format"
SURVEY_SMOOTHNESS_BLOCK = "smoothness"
SURVEY_SURPRISE_BLOCK = "surprise"
VALUE_ACTION = "value"  # the action_id of the single element inside each input block

MAX_MENTIONS = 40


@dataclass(frozen=True)
class Message:
    text: str  # notification and screen-reader fallback
    blocks: list[dict[str, Any]]


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _mrkdwn(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))


def _modal(
    *,
    title: str,
    blocks: Sequence[Block],
    callback_id: str | None = None,
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str | None = None,
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=clip(title, 24)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text=close),
        private_metadata=private_metadata,
        blocks=list(blocks),
    )
    return view.to_dict()


def _participant_mentions(user_ids: Sequence[str]) -> str:
    shown = " ".join(mention(u) for u in user_ids[:MAX_MENTIONS])
    hidden = len(user_ids) - MAX_MENTIONS
    return shown + (f" and {hidden} more" if hidden > 0 else "")


def _category_list(fmt: RetroFormat) -> str:
    return ", ".join(f"{c.emoji} {c.label}" for c in fmt.categories)


# ---------------------------------------------------------------- new retro


def new_retro_modal(*, channel_id: str, title: str, now: datetime) -> dict[str, Any]:
    default_deadline = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=1
    )
    formats = [Option(value=f.key, text=clip(f.name, 75)) for f in FORMATS.values()]
    blocks: list[Block] = [
        InputBlock(
            block_id=NEW_TITLE_BLOCK,
            label="Title",
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                initial_value=clip(title, MAX_TITLE_LENGTH) or None,
                max_length=MAX_TITLE_LENGTH,
                placeholder="Release 2.4 retro",
            ),
        ),
        InputBlock(
            block_id=NEW_PARTICIPANTS_BLOCK,
            label="Participants",
            optional=True,
            element=UserMultiSelectElement(action_id=VALUE_ACTION, placeholder="Everyone in the channel"),
            hint=f"Leave empty to invite everyone in {channel_link(channel_id)} (bots are left out).",
        ),
        InputBlock(
            block_id=NEW_DEADLINE_BLOCK,
            label="Collect answers until",
            element=DateTimePickerElement(
                action_id=VALUE_ACTION, initial_date_time=int(default_deadline.timestamp())
            ),
            hint="Shown to each participant in their own time zone.",
        ),
        InputBlock(
            block_id=NEW_FORMAT_BLOCK,
            label="Format",
            element=StaticSelectElement(
                action_id=VALUE_ACTION,
                options=formats,
                initial_option=formats[0],
            ),
        ),
    ]
    return _modal(
        title="New retrospective",
        callback_id=NEW_RETRO_CALLBACK,
        submit="Start retro",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=blocks,
    )


def kickoff_message(*, retro: Retro, participant_ids: Sequence[str]) -> Message:
    fmt = FORMATS[retro.format]
    deadline = slack_date(retro.deadline)
    title = escape(retro.title)
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Retrospective: {retro.title}", 150)),
        _mrkdwn(
            f"{mention(retro.facilitator_id)} started an asynchronous retrospective. "
            f"Answers are collected until *{deadline}*."
        ),
        _mrkdwn(f"*The Prime Directive*\n>{PRIME_DIRECTIVE}"),
        _mrkdwn(
            "*How to take part*\nEach participant gets a DM from me with a short survey: "
            f"{_category_list(fmt)}, a 1–10 rating of how smoothly it went, and what surprised you. "
            "Answer whenever it suits you; you can change your answers until the deadline."
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Fill in the survey",
                    action_id=OPEN_SURVEY_ACTION,
                    value=str(retro.id),
                    style="primary",
                )
            ]
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"Participants: {_participant_mentions(participant_ids)}")]
        ),
    ]
    return Message(text=f"Retrospective started: {title}. Answers are due {deadline}.", blocks=_dicts(blocks))


def survey_invite_message(*, retro: Retro) -> Message:
    fmt = FORMATS[retro.format]
    deadline = slack_date(retro.deadline)
    title = escape(retro.title)
    blocks: list[Block] = [
        _mrkdwn(
            f"{mention(retro.facilitator_id)} invited you to the retrospective *{title}* in "
            f"{channel_link(retro.channel_id)}. Please answer by *{deadline}*."
        ),
        _mrkdwn(
            f"It takes a few minutes: {_category_list(fmt)}, a 1–10 smoothness rating, and what surprised you."
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Open survey", action_id=OPEN_SURVEY_ACTION, value=str(retro.id), style="primary"
                )
            ]
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text="You can open the survey again to change your answers.")]
        ),
    ]
    return Message(
        text=f"You're invited to the retrospective {title}: please answer by {deadline}.",
        blocks=_dicts(blocks),
    )


def already_open_text(*, retro: Retro) -> str:
    where = (
        f"<{retro.kickoff_permalink}|{escape(retro.title)}>"
        if retro.kickoff_permalink
        else f"*{escape(retro.title)}*"
    )
    return (
        f"This channel already has an open retro: {where}, run by {mention(retro.facilitator_id)}. "
        "Close it with `/retro close` before starting a new one."
    )


def start_report_text(*, retro: Retro, invited: Sequence[str], failed: Sequence[tuple[str, str]]) -> str:
    lines = [f"*{escape(retro.title)}* has started: survey sent to {len(invited)} participant(s)."]
    if failed:
        lines.append("I could not reach these people, so they got no survey:")
        lines.extend(f"• {mention(user)}: `{escape(error)}`" for user, error in failed)
        lines.append("They can still answer with the *Fill in the survey* button on the kickoff message.")
    return "\n".join(lines)


def not_in_channel_text(*, channel_id: str) -> str:
    return (
        f"I couldn't post in {channel_link(channel_id)} because I'm not a member. "
        "Add me with `/invite @Rearview` in that channel, then run `/retro new` again."
    )


# ---------------------------------------------------------------- survey


def survey_block_id(category_key: str) -> str:
    return f"cat_{category_key}"


def survey_modal(
    *,
    retro: Retro,
    answers: dict[str, list[str]],
    smoothness: int | None,
    surprise: str | None,
) -> dict[str, Any]:
    fmt = FORMATS[retro.format]
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"*{escape(clip(retro.title, 200))}* · answers until {slack_date(retro.deadline)}. "
                    "One item per line; leave a field empty if nothing comes to mind."
                )
            ]
        )
    ]
    for category in fmt.categories:
        existing = "\n".join(answers.get(category.key, []))
        blocks.append(
            InputBlock(
                block_id=survey_block_id(category.key),
                label=f"{category.label}",
                optional=True,
                element=PlainTextInputElement(
                    action_id=VALUE_ACTION,
                    multiline=True,
                    max_length=3000,
                    initial_value=existing[:3000] or None,
                    placeholder=category.prompt,
                ),
            )
        )
    ratings = [Option(value=str(n), text=_rating_label(n)) for n in range(1, 11)]
    blocks.append(
        InputBlock(
            block_id=SURVEY_SMOOTHNESS_BLOCK,
            label="How smoothly did it go?",
            optional=True,
            element=StaticSelectElement(
                action_id=VALUE_ACTION,
                options=ratings,
                initial_option=ratings[smoothness - 1] if smoothness else None,
                placeholder="1 = very rough, 10 = perfectly smooth",
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=SURVEY_SURPRISE_BLOCK,
            label="What surprised you?",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                max_length=MAX_ITEM_LENGTH,
                initial_value=surprise or None,
            ),
        )
    )
    return _modal(
        title="Retro survey",
        callback_id=SURVEY_CALLBACK,
        submit="Save answers",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=blocks,
    )


def _rating_label(n: int) -> str:
    return {1: "1 – very rough", 5: "5 – so-so", 10: "10 – perfectly smooth"}.get(n, str(n))


def survey_thanks_modal(*, retro: Retro, item_count: int, smoothness: int | None) -> dict[str, Any]:
    rating = f" and rated it {smoothness}/10" if smoothness else ""
    return _modal(
        title="Thank you!",
        blocks=[
            _mrkdwn(
                f"Your answers for *{escape(retro.title)}* are saved: {item_count} item(s){rating}. "
                f"You can open the survey again to change them until {slack_date(retro.deadline)}."
            )
        ],
    )


def notice_modal(*, title: str, text: str) -> dict[str, Any]:
    return _modal(title=title, blocks=[_mrkdwn(text)])


def closed_text(*, retro: Retro) -> str:
    return (
        f"*{escape(retro.title)}* is closed, so answers can no longer be changed. "
        f"If something important is missing, tell {mention(retro.facilitator_id)}."
    )


# ---------------------------------------------------------------- status, usage, close


def status_message(*, retro: Retro, stats: RetroStats, now: datetime) -> Message:
    fmt = FORMATS[retro.format]
    open_ = retro.phase == Phase.COLLECTING
    when = (
        f"Answers until {slack_date(retro.deadline)} ({time_left(retro.deadline, now)})"
        if open_
        else f"Closed {slack_date(retro.closed_at or retro.deadline)}"
    )
    counts = "\n".join(f"{c.emoji} {c.label}: *{stats.counts.get(c.key, 0)}*" for c in fmt.categories)
    rating = (
        f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings yet"
    )
    blocks: list[Block] = [
        _mrkdwn(f"*{escape(retro.title)}* · phase: *{retro.phase}*\n{when}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Responded*\n{stats.responded} of {stats.invited}"),
                MarkdownTextObject(text=f"*Smoothness*\n{rating}"),
            ]
        ),
        _mrkdwn(f"*Items so far* ({stats.total_items})\n{counts}"),
        ContextBlock(elements=[MarkdownTextObject(text=f"Facilitator: {mention(retro.facilitator_id)}")]),
    ]
    return Message(
        text=f"{escape(retro.title)}: {stats.responded} of {stats.invited} responded, {stats.total_items} items.",
        blocks=_dicts(blocks),
    )


USAGE = (
    "*Rearview runs asynchronous retrospectives in this channel.*\n"
    "• `/retro new [title]`: start a retro (you become its facilitator)\n"
    "• `/retro status`: who has answered, items so far, time left\n"
    "• `/retro close`: close collection and publish `retrospective.md` (facilitator only)\n"
    "• `/retro help`: this message"
)


def usage_message(*, unknown: str | None = None) -> Message:
    intro = f"I don't know `/retro {escape(clip(unknown, 100))}`.\n\n" if unknown else ""
    return Message(text=intro + USAGE, blocks=_dicts([_mrkdwn(intro + USAGE)]))


def close_summary_message(*, retro: Retro, stats: RetroStats) -> Message:
    fmt = FORMATS[retro.format]
    rating = f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings"
    counts = " · ".join(f"{c.emoji} {c.label}: {stats.counts.get(c.key, 0)}" for c in fmt.categories)
    blocks: list[Block] = [
        _mrkdwn(
            f":checkered_flag: *{escape(retro.title)}* is closed. "
            f"{stats.responded} of {stats.invited} people answered; smoothness {rating}."
        ),
        _mrkdwn(counts),
        ContextBlock(
            elements=[MarkdownTextObject(text="The full report, `retrospective.md`, is in the channel.")]
        ),
    ]
    return Message(text=f"{escape(retro.title)} is closed.", blocks=_dicts(blocks))


def report_comment(*, retro: Retro) -> str:
    return f"Report for the retrospective *{escape(retro.title)}*, facilitated by {mention(retro.facilitator_id)}."


def publish_failed_text(*, retro: Retro, error: str) -> str:
    return (
        f"*{escape(retro.title)}* is closed, but I couldn't publish its report (`{escape(error)}`). "
        "Run `/retro close` again to retry."
    )


def divider() -> dict[str, Any]:
    return DividerBlock().to_dict()
