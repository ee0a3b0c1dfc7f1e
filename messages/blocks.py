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
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import (
    ANONYMITY_LABELS,
    DEFAULT_TURN_HOURS,
    DEFAULT_VOTES,
    FOLLOWUP_WEEKS,
    FORMATS,
    MAX_CUSTOM_QUESTIONS,
    MAX_ITEM_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_VOTES,
    PRIME_DIRECTIVE,
    ROUND_ROBIN_SCOPES,
    TURN_HOURS,
    Anonymity,
    Phase,
    RetroFormat,
    RetroMetrics,
    RetroStats,
)
from messages.text import channel_link, clip, escape, mention, plural, slack_date, time_left
from storage.models import ActionItem, Item, Retro

# callback and action ids: the contract between builders and listeners.
NEW_RETRO_CALLBACK = "retro_new"
SURVEY_CALLBACK = "survey_submit"
OPEN_SURVEY_ACTION = "survey_open"
ADD_ITEM_ACTION = "item_add_open"
MY_ITEMS_ACTION = "items_mine"
ITEM_CALLBACK = "item_submit"
ITEM_EDIT_ACTION = "item_edit"
ITEM_DELETE_ACTION = "item_delete"
PICK_CATEGORY_ACTION = "item_pick"  # + ":<category>": action ids must be unique within a block
PICK_RETRO_ACTION = "retro_pick"  # + ":<retro id>"
EXTEND_CALLBACK = "retro_extend"
CLOSE_CALLBACK = "retro_close"
STAKEHOLDER_BLOCK = "stakeholder_channel"
MY_ITEMS_CALLBACK = "items_mine_view"

NEW_TITLE_BLOCK = "title"
NEW_PARTICIPANTS_BLOCK = "participants"
NEW_DEADLINE_BLOCK = "deadline"
NEW_FORMAT_BLOCK = "format"
NEW_ANONYMITY_BLOCK = "anonymity"
NEW_QUESTIONS_BLOCK = "questions"
NEW_SCOPE_BLOCK = "round_robin_scope"
NEW_TURN_HOURS_BLOCK = "turn_hours"
NEW_VOTES_BLOCK = "votes_per_person"
NEW_FOLLOWUP_BLOCK = "followup_weeks"
RELEASE_BLOCKS = {
    "version": "release_version",
    "deploy_date": "release_deploy_date",
    "scope": "release_scope",
    "incidents": "release_incidents",
    "rollbacks": "release_rollbacks",
    "hotfixes": "release_hotfixes",
    "notes": "release_notes",
}
EXTEND_DEADLINE_BLOCK = "deadline"
ITEM_TEXT_BLOCK = "item_text"
ITEM_CATEGORY_BLOCK = "item_category"
ANONYMOUS_BLOCK = "anonymous"
ANONYMOUS_VALUE = "anonymous"
MAX_QUESTION_LENGTH = 200
MAX_LISTED_ITEMS = 40
SURVEY_SMOOTHNESS_BLOCK = "smoothness"
SURVEY_SURPRISE_BLOCK = "surprise"
VALUE_ACTION = "value"  # the action_id of the single element inside each input block

MAX_MENTIONS = 40


@dataclass(frozen=True)
class Message:
    text: str  # notification and screen-reader fallback
    blocks: list[dict[str, Any]]


def dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def mrkdwn(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))


def modal(
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
    modes = [Option(value=mode.value, text=label) for mode, label in ANONYMITY_LABELS.items()]
    scopes = [Option(value=key, text=label) for key, label in ROUND_ROBIN_SCOPES.items()]
    hours = [Option(value=str(h), text=plural(h, "working hour")) for h in TURN_HOURS]
    votes = [Option(value=str(n), text=str(n)) for n in range(1, MAX_VOTES + 1)]
    followups = [Option(value=str(w), text=f"{w} weeks") for w in FOLLOWUP_WEEKS]
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
            hint="Shown to each participant in their own time zone; collection closes by itself then.",
        ),
        InputBlock(
            block_id=NEW_FORMAT_BLOCK,
            label="Format",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=formats, initial_option=formats[0]),
        ),
        InputBlock(
            block_id=NEW_ANONYMITY_BLOCK,
            label="Anonymity",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=modes, initial_option=modes[0]),
            hint="Anonymous items are stored without the author's Slack id; you see counts, never names.",
        ),
        InputBlock(
            block_id=NEW_QUESTIONS_BLOCK,
            label="Extra survey questions",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                max_length=1000,
                placeholder="Up to 3, one per line, e.g. Was the release checklist useful?",
            ),
        ),
        InputBlock(
            block_id=NEW_SCOPE_BLOCK,
            label="Round-robin",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=scopes, initial_option=scopes[0]),
            hint="After collection, everyone gets a turn in the thread, one after another.",
        ),
        InputBlock(
            block_id=NEW_TURN_HOURS_BLOCK,
            label="Time for each turn",
            element=StaticSelectElement(
                action_id=VALUE_ACTION,
                options=hours,
                initial_option=next(o for o in hours if o.value == str(DEFAULT_TURN_HOURS)),
            ),
            hint="Counted in each person's own working hours (Monday–Friday, 09:00–17:00).",
        ),
        InputBlock(
            block_id=NEW_VOTES_BLOCK,
            label="Votes per person",
            element=StaticSelectElement(
                action_id=VALUE_ACTION, options=votes, initial_option=votes[DEFAULT_VOTES - 1]
            ),
        ),
        InputBlock(
            block_id=NEW_FOLLOWUP_BLOCK,
            label="Follow up on action items after",
            element=StaticSelectElement(
                action_id=VALUE_ACTION, options=followups, initial_option=followups[0]
            ),
            hint="Counted from the collection deadline; owners are asked for news and a summary is posted here.",
        ),
        HeaderBlock(text="The release (optional)"),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="What this retro looks back on. Anything left empty is shown as missing, never guessed."
                )
            ]
        ),
        _release_input("version", "Version", multiline=False, max_length=100, placeholder="2.4.0"),
        InputBlock(
            block_id=RELEASE_BLOCKS["deploy_date"],
            label="Deploy date",
            optional=True,
            element=DatePickerElement(action_id=VALUE_ACTION),
        ),
        _release_input("scope", "Scope: what shipped", placeholder="Features, fixes, migrations"),
        _release_input("incidents", "Incidents", placeholder="None, or what happened"),
        _release_input("rollbacks", "Rollbacks", placeholder="None, or which and why"),
        _release_input("hotfixes", "Hotfixes", placeholder="None, or which"),
        _release_input("notes", "Notes and metrics", placeholder="Planned vs actual timings, error rates…"),
    ]
    return modal(
        title="New retrospective",
        callback_id=NEW_RETRO_CALLBACK,
        submit="Start retro",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=blocks,
    )


PREVIOUS_ACTION = "previous_action"
MAX_PREVIOUS = 20
_DECIDED = {"carried": "carried over", "done": "done", "dropped": "dropped"}


def _previous_blocks(previous: Retro | None, items: Sequence[ActionItem]) -> list[Block]:
    """The previous retro's open action items, each with the facilitator's choices."""
    if previous is None or not items:
        return []
    out: list[Block] = [mrkdwn(f"*Open action items from {escape(previous.title)}*")]
    for action in items[:MAX_PREVIOUS]:
        due = action.due_date.isoformat() if action.due_date else "no due date"
        line = f"• {escape(clip(action.text, 500))} — {mention(action.owner_id)}, due {due}"
        if action.status != "open":
            out.append(mrkdwn(f"{line} · _{_DECIDED.get(action.status, action.status)}_"))
            continue
        out.append(
            SectionBlock(
                block_id=f"previous_{action.id}",
                text=MarkdownTextObject(text=line),
                accessory=OverflowMenuElement(
                    action_id=PREVIOUS_ACTION,
                    options=[
                        Option(value=f"carry:{action.id}", text="Carry over"),
                        Option(value=f"done:{action.id}", text="Mark done"),
                        Option(value=f"drop:{action.id}", text="Drop"),
                    ],
                ),
            )
        )
    if len(items) > MAX_PREVIOUS:
        out.append(mrkdwn(f"…and {len(items) - MAX_PREVIOUS} more: `/retro actions` lists them."))
    return out


def _recurring_blocks(recurring: Sequence[tuple[str, int, int]]) -> list[Block]:
    """(text, raised in, out of) for problems the last retro shared with earlier ones."""
    if not recurring:
        return []
    lines = [
        f"• {escape(clip(text, 300))}: raised in {count} of the last {window} retros"
        for text, count, window in recurring[:10]
    ]
    return [mrkdwn(":repeat: *Problems that keep coming back*\n" + "\n".join(lines))]


def kickoff_message(
    *,
    retro: Retro,
    participant_ids: Sequence[str],
    previous: Retro | None = None,
    previous_items: Sequence[ActionItem] = (),
    recurring: Sequence[tuple[str, int, int]] = (),
) -> Message:
    fmt = FORMATS[retro.format]
    deadline = slack_date(retro.deadline)
    title = escape(retro.title)
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Retrospective: {retro.title}", 150)),
        mrkdwn(
            f"{mention(retro.facilitator_id)} started an asynchronous retrospective. "
            f"Answers are collected until *{deadline}*."
        ),
        mrkdwn(f"*The Prime Directive*\n>{PRIME_DIRECTIVE}"),
        mrkdwn(_release_section(retro)),
        *_previous_blocks(previous, previous_items),
        *_recurring_blocks(recurring),
        mrkdwn(
            "*How to take part*\nEach participant gets a DM from me with a short survey: "
            f"{_category_list(fmt)}, a 1–10 rating of how smoothly it went, and what surprised you. "
            "Answer whenever it suits you; you can change your answers until the deadline.\n"
            + _thread_help(fmt)
            + _anonymity_note(retro)
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Fill in the survey",
                    action_id=OPEN_SURVEY_ACTION,
                    value=str(retro.id),
                    style="primary",
                ),
                ButtonElement(text="Add item", action_id=ADD_ITEM_ACTION, value=str(retro.id)),
                ButtonElement(text="My items", action_id=MY_ITEMS_ACTION, value=str(retro.id)),
            ]
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"Participants: {_participant_mentions(participant_ids)}")]
        ),
    ]
    return Message(text=f"Retrospective started: {title}. Answers are due {deadline}.", blocks=dicts(blocks))


def survey_invite_message(*, retro: Retro) -> Message:
    fmt = FORMATS[retro.format]
    deadline = slack_date(retro.deadline)
    title = escape(retro.title)
    blocks: list[Block] = [
        mrkdwn(
            f"{mention(retro.facilitator_id)} invited you to the retrospective *{title}* in "
            f"{channel_link(retro.channel_id)}. Please answer by *{deadline}*."
        ),
        mrkdwn(
            f"It takes a few minutes: {_category_list(fmt)}, a 1–10 smoothness rating, and what surprised you."
        ),
        _item_buttons(retro),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="You can open the survey again to change your answers. You can also just write to me "
                    f"here, one item per line: `+` {fmt.categories[0].label}, `-` {fmt.categories[1].label}, "
                    f"`*` {fmt.categories[2].label}." + _anonymity_note(retro).replace("\n", " ")
                )
            ]
        ),
    ]
    return Message(
        text=f"You're invited to the retrospective {title}: please answer by {deadline}.",
        blocks=dicts(blocks),
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
    lines = [f"*{escape(retro.title)}* has started: survey sent to {plural(len(invited), 'participant')}."]
    if failed:
        lines.append("I could not reach these people, so they got no survey:")
        lines.extend(f"• {mention(user)}: `{escape(error)}`" for user, error in failed)
        lines.append("They can still answer with the *Fill in the survey* button on the kickoff message.")
    return "\n".join(lines)


def start_progress_text(*, retro: Retro, total: int, invited: int, failed: Sequence[tuple[str, str]]) -> str:
    """The facilitator's "started" note, redrawn as invitations go out."""
    waiting = total - invited - len(failed)
    if waiting > 0:
        head = f"*{escape(retro.title)}* has started: survey sent to {invited:,} of {plural(total, 'participant')}…"
    else:
        head = f"*{escape(retro.title)}* has started: survey sent to {plural(invited, 'participant')}."
    lines = [head]
    if failed:
        lines.append("I could not reach these people, so they got no survey:")
        lines.extend(f"• {mention(user)}: `{escape(error)}`" for user, error in failed[:40])
        if len(failed) > 40:
            lines.append(f"…and {len(failed) - 40:,} more.")
        lines.append("They can still answer with the *Fill in the survey* button on the kickoff message.")
    return "\n".join(lines)


def start_progress_message(
    *, retro: Retro, total: int, invited: int, failed: Sequence[tuple[str, str]]
) -> Message:
    text = start_progress_text(retro=retro, total=total, invited=invited, failed=failed)
    return Message(text=text, blocks=dicts([mrkdwn(text[:3000])]))


def delivery_failures_text(*, failures: Sequence[tuple[str, str]]) -> str:
    """Deliveries that failed for good, told once to the person in charge: (what, Slack's error)."""
    lines = ["I couldn't deliver everything:"]
    lines.extend(f"• {what}: `{escape(error)}`" for what, error in failures[:20])
    if len(failures) > 20:
        lines.append(f"…and {len(failures) - 20:,} more.")
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
    custom: Sequence[str | None] = (),
    anonymous: bool = False,
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
                label=category.label,
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
    for n, question in enumerate(retro.custom_questions[:MAX_CUSTOM_QUESTIONS]):
        previous = custom[n] if n < len(custom) else None
        blocks.append(
            InputBlock(
                block_id=custom_block_id(n),
                label=clip(question, 2000),
                optional=True,
                element=PlainTextInputElement(
                    action_id=VALUE_ACTION,
                    multiline=True,
                    max_length=MAX_ITEM_LENGTH,
                    initial_value=previous or None,
                ),
            )
        )
    blocks.extend(_anonymity_blocks(retro, checked=anonymous, what="my survey answers"))
    return modal(
        title="Retro survey",
        callback_id=SURVEY_CALLBACK,
        submit="Save answers",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=blocks,
    )


def _rating_label(n: int) -> str:
    return {1: "1 – very rough", 5: "5 – so-so", 10: "10 – perfectly smooth"}.get(n, str(n))


def survey_thanks_modal(
    *, retro: Retro, item_count: int, smoothness: int | None, anonymous: bool = False
) -> dict[str, Any]:
    rating = f" and rated it {smoothness}/10" if smoothness else ""
    privacy = " They are stored anonymously." if anonymous else ""
    return modal(
        title="Thank you!",
        blocks=[
            mrkdwn(
                f"Your answers for *{escape(retro.title)}* are saved: {plural(item_count, 'item')}{rating}.{privacy} "
                f"You can open the survey again to change them until {slack_date(retro.deadline)}."
            )
        ],
    )


def notice_modal(*, title: str, text: str) -> dict[str, Any]:
    return modal(title=title, blocks=[mrkdwn(text)])


# ---------------------------------------------------------------- status, usage, close


def _phase_line(retro: Retro, now: datetime, turn_user: str | None, turn_due: datetime | None) -> str:
    phase = Phase(retro.phase)
    if phase == Phase.COLLECTING:
        return f"Answers until {slack_date(retro.deadline)} ({time_left(retro.deadline, now)})"
    if phase == Phase.DISCUSSING:
        if retro.paused_at:
            return "Round-robin paused"
        if turn_user is None:
            return "Round-robin"
        until = f" until {slack_date(turn_due)}" if turn_due else ""
        return f"Round-robin: {mention(turn_user)}'s turn{until}"
    if phase == Phase.VOTING:
        return f"Voting until {slack_date(retro.voting_deadline)}" if retro.voting_deadline else "Voting"
    if phase == Phase.ACTIONS:
        return "Voting is over: the results are in the thread"
    return f"Closed {slack_date(retro.closed_at or retro.deadline)}"


def status_message(
    *,
    retro: Retro,
    stats: RetroStats,
    now: datetime,
    turn_user: str | None = None,
    turn_due: datetime | None = None,
) -> Message:
    fmt = FORMATS[retro.format]
    when = _phase_line(retro, now, turn_user, turn_due)
    counts = "\n".join(f"{c.emoji} {c.label}: *{stats.counts.get(c.key, 0)}*" for c in fmt.categories)
    rating = (
        f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings yet"
    )
    blocks: list[Block] = [
        mrkdwn(f"*{escape(retro.title)}* · phase: *{retro.phase}*\n{when}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Responded*\n{stats.responded} of {stats.invited}"),
                MarkdownTextObject(text=f"*Smoothness*\n{rating}"),
            ]
        ),
        mrkdwn(f"*Items so far* ({stats.total_items})\n{counts}"),
        ContextBlock(elements=[MarkdownTextObject(text=f"Facilitator: {mention(retro.facilitator_id)}")]),
    ]
    return Message(
        text=f"{escape(retro.title)}: {stats.responded} of {stats.invited} responded, {stats.total_items} items.",
        blocks=dicts(blocks),
    )


def usage_message(*, unknown: str | None = None) -> Message:
    intro = f"I don't know `/retro {escape(clip(unknown, 100))}`.\n\n" if unknown else ""
    return Message(text=intro + USAGE, blocks=dicts([mrkdwn(intro + USAGE)]))


def close_summary_message(*, retro: Retro, stats: RetroStats) -> Message:
    fmt = FORMATS[retro.format]
    rating = f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings"
    counts = " · ".join(f"{c.emoji} {c.label}: {stats.counts.get(c.key, 0)}" for c in fmt.categories)
    blocks: list[Block] = [
        mrkdwn(
            f":checkered_flag: *{escape(retro.title)}* is closed. "
            f"{stats.responded} of {stats.invited} people answered; smoothness {rating}."
        ),
        mrkdwn(counts),
        ContextBlock(
            elements=[MarkdownTextObject(text="The full report, `retrospective.md`, is in the channel.")]
        ),
    ]
    return Message(text=f"{escape(retro.title)} is closed.", blocks=dicts(blocks))


def cancelled_text(*, retro: Retro) -> str:
    return (
        f":no_entry_sign: {mention(retro.facilitator_id)} cancelled *{escape(retro.title)}*: "
        f"{escape(retro.cancel_reason or '')}"
    )


def report_comment(*, retro: Retro) -> str:
    return f"Report for the retrospective *{escape(retro.title)}*, facilitated by {mention(retro.facilitator_id)}."


def publish_failed_text(*, retro: Retro, error: str) -> str:
    return (
        f"*{escape(retro.title)}* is closed, but I couldn't publish its report (`{escape(error)}`). "
        "Run `/retro close` again to retry."
    )


def _release_input(
    field: str, label: str, *, multiline: bool = True, max_length: int = 3000, placeholder: str
) -> InputBlock:
    return InputBlock(
        block_id=RELEASE_BLOCKS[field],
        label=label,
        optional=True,
        element=PlainTextInputElement(
            action_id=VALUE_ACTION, multiline=multiline, max_length=max_length, placeholder=placeholder
        ),
    )


def release_lines(retro: Retro) -> list[tuple[str, str | None]]:
    """(label, value or None when missing) for the release the retro looks back on."""
    return [
        ("Version", retro.release_version),
        ("Deploy date", retro.deploy_date.isoformat() if retro.deploy_date else None),
        ("Scope", retro.release_scope),
        ("Incidents", retro.incidents),
        ("Rollbacks", retro.rollbacks),
        ("Hotfixes", retro.hotfixes),
        ("Notes and metrics", retro.release_notes),
    ]


def _release_section(retro: Retro) -> str:
    lines = release_lines(retro)
    if all(value is None for _, value in lines):
        return "*The release*\n_No release details were given._"
    shown = [
        f"*{label}:* {escape(clip(value, 400)) if value is not None else '_not given_'}"
        for label, value in lines
    ]
    return "*The release*\n" + "\n".join(shown)


def _thread_help(fmt: RetroFormat) -> str:
    first, second, third = fmt.categories[0], fmt.categories[1], fmt.categories[2]
    return (
        f"Or reply in this thread, one item per line: `+` {first.label}, `-` {second.label}, "
        f"`*` or `>` {third.label}. Thread replies show your name; for anonymous items, "
        "DM me or use *Add item*."
    )


def _anonymity_note(retro: Retro) -> str:
    return {
        Anonymity.NAMED: "\nAnswers in this retro are named.",
        Anonymity.OPTIONAL: "\nYou can mark survey answers and items as anonymous (in a DM, start with `anon`).",
        Anonymity.ANONYMOUS: "\nSurvey answers and items sent by DM or *Add item* are anonymous.",
    }.get(Anonymity(retro.anonymity), "")


def _item_buttons(retro: Retro) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Open survey", action_id=OPEN_SURVEY_ACTION, value=str(retro.id), style="primary"
            ),
            ButtonElement(text="Add item", action_id=ADD_ITEM_ACTION, value=str(retro.id)),
            ButtonElement(text="My items", action_id=MY_ITEMS_ACTION, value=str(retro.id)),
        ]
    )


def custom_block_id(n: int) -> str:
    return f"custom_{n}"


def _anonymity_blocks(retro: Retro, *, checked: bool, what: str) -> list[Block]:
    if retro.anonymity == Anonymity.OPTIONAL:
        option = Option(value=ANONYMOUS_VALUE, text=f"Keep {what} anonymous")
        return [
            InputBlock(
                block_id=ANONYMOUS_BLOCK,
                label="Anonymity",
                optional=True,
                element=CheckboxesElement(
                    action_id=VALUE_ACTION, options=[option], initial_options=[option] if checked else None
                ),
                hint="Anonymous answers are stored without your Slack id; nobody sees who wrote them.",
            )
        ]
    text = {
        Anonymity.ANONYMOUS: ":lock: This retro is anonymous: nobody sees who wrote what.",
        Anonymity.NAMED: "This retro is named: your answers are recorded with your name.",
    }[Anonymity(retro.anonymity)]
    return [ContextBlock(elements=[MarkdownTextObject(text=text)])]


def item_modal(*, retro: Retro, item: Item | None = None) -> dict[str, Any]:
    """Add an item, or edit one of your own (`item`)."""
    fmt = FORMATS[retro.format]
    options = [Option(value=c.key, text=clip(c.label, 75)) for c in fmt.categories]
    chosen = next((o for o in options if item is not None and o.value == item.category), options[0])
    blocks: list[Block] = [
        InputBlock(
            block_id=ITEM_CATEGORY_BLOCK,
            label="Category",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=options, initial_option=chosen),
        ),
        InputBlock(
            block_id=ITEM_TEXT_BLOCK,
            label="Your item",
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                max_length=MAX_ITEM_LENGTH,
                initial_value=item.text if item is not None else None,
            ),
        ),
    ]
    if item is None:
        blocks.extend(_anonymity_blocks(retro, checked=False, what="this item"))
    metadata = {"retro_id": retro.id, "item_id": item.id if item is not None else None}
    return modal(
        title="Edit item" if item is not None else "Add an item",
        callback_id=ITEM_CALLBACK,
        submit="Save" if item is not None else "Add",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    )


def item_added_modal(*, retro: Retro, category_label: str, anonymous: bool) -> dict[str, Any]:
    privacy = " anonymously" if anonymous else ""
    return modal(
        title="Item added",
        blocks=[
            mrkdwn(
                f":white_check_mark: Added{privacy} to *{escape(category_label)}* in *{escape(retro.title)}*. "
                "You can change it under *My items* until the deadline."
            )
        ],
    )


def my_items_modal(*, retro: Retro, items: Sequence[Item], editable: bool) -> dict[str, Any]:
    fmt = FORMATS[retro.format]
    labels = {c.key: f"{c.emoji} {c.label}" for c in fmt.categories}
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Your items in *{escape(clip(retro.title, 200))}*"
                    + (
                        f", editable until {slack_date(retro.deadline)}."
                        if editable
                        else ". Collection is closed."
                    )
                )
            ]
        )
    ]
    if not items:
        blocks.append(mrkdwn("_You have no items in this retro yet._"))
    for item in items[:MAX_LISTED_ITEMS]:
        marker = " · _anonymous_" if item.author_id is None else ""
        blocks.append(mrkdwn(f"{labels.get(item.category, item.category)}{marker}\n{escape(item.text)}"))
        if editable:
            blocks.append(
                ActionsBlock(
                    block_id=f"item_{item.id}",
                    elements=[
                        ButtonElement(text="Edit", action_id=ITEM_EDIT_ACTION, value=str(item.id)),
                        ButtonElement(
                            text="Delete",
                            action_id=ITEM_DELETE_ACTION,
                            value=str(item.id),
                            style="danger",
                            confirm=ConfirmObject(
                                title="Delete this item?",
                                text="It is removed from the retro for good.",
                                confirm="Delete",
                                deny="Keep it",
                            ),
                        ),
                    ],
                )
            )
    if len(items) > MAX_LISTED_ITEMS:
        blocks.append(mrkdwn(f"_…and {len(items) - MAX_LISTED_ITEMS} more._"))
    return modal(
        title="My items",
        callback_id=MY_ITEMS_CALLBACK,
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=blocks,
    )


def category_picker(*, retro: Retro, text: str, anonymous: bool, source: str) -> Message:
    """Ask which category an unprefixed reply belongs to; the text travels in the buttons."""
    fmt = FORMATS[retro.format]
    buttons = [
        ButtonElement(
            text=clip(c.label, 75),
            action_id=f"{PICK_CATEGORY_ACTION}:{c.key}",
            value=json.dumps({"r": retro.id, "c": c.key, "t": text, "a": anonymous, "s": source}),
        )
        for c in fmt.categories
    ]
    blocks: list[Block] = [
        mrkdwn(f"Which category is this for *{escape(retro.title)}*?\n>{escape(clip(text, 500))}"),
        ActionsBlock(elements=buttons),
    ]
    return Message(text="Which category is this?", blocks=dicts(blocks))


def picker_fits(*, retro_id: int, category_key: str, text: str) -> bool:
    """Button values hold at most 2000 characters."""
    return len(json.dumps({"r": retro_id, "c": category_key, "t": text, "a": False, "s": "thread"})) <= 2000


def retro_picker_fits(*, text: str) -> bool:
    return len(json.dumps({"r": 10**9, "t": text})) <= 2000


def retro_picker(*, retros: Sequence[Retro], text: str) -> Message:
    buttons = [
        ButtonElement(
            text=clip(r.title, 75),
            action_id=f"{PICK_RETRO_ACTION}:{r.id}",
            value=json.dumps({"r": r.id, "t": text}),
        )
        for r in retros[:5]
    ]
    blocks: list[Block] = [
        mrkdwn("You are in more than one open retro. Which one is this for?"),
        ActionsBlock(elements=buttons),
    ]
    return Message(text="Which retro is this for?", blocks=dicts(blocks))


def collection_closed_text(*, retro: Retro, stats: RetroStats) -> str:
    fmt = FORMATS[retro.format]
    counts = ", ".join(f"{c.label}: {stats.counts.get(c.key, 0)}" for c in fmt.categories)
    return (
        f":hourglass: Collection for *{escape(retro.title)}* is closed. "
        f"{stats.responded} of {stats.invited} people answered; {plural(stats.total_items, 'item')} ({counts}). "
        "The items are in the retro thread and the round-robin has begun. `/retro skip`, `/retro pause` and "
        "`/retro resume` steer it; `/retro next` moves on to voting."
    )


def next_step_text(*, retro: Retro) -> str:
    return {
        Phase.COLLECTING: "Closing collection: the items go to the thread and the round-robin starts.",
        Phase.DISCUSSING: "Ending the round-robin: ballots go out now.",
        Phase.VOTING: "Closing the vote: the results follow in the thread.",
    }.get(Phase(retro.phase), "Moving on.")


def nudge_message(*, retro: Retro, now: datetime) -> Message:
    blocks: list[Block] = [
        mrkdwn(
            f":wave: A reminder: the retrospective *{escape(retro.title)}* in {channel_link(retro.channel_id)} "
            f"collects answers until *{slack_date(retro.deadline)}* ({time_left(retro.deadline, now)}). "
            "A few lines are enough."
        ),
        _item_buttons(retro),
    ]
    return Message(
        text=f"Reminder: {escape(retro.title)} closes {slack_date(retro.deadline)}.", blocks=dicts(blocks)
    )


def deadline_moved_message(*, retro: Retro) -> Message:
    text = f":calendar: {mention(retro.facilitator_id)} moved the deadline to *{slack_date(retro.deadline)}*."
    return Message(text=text, blocks=dicts([mrkdwn(text)]))


def extend_modal(*, retro: Retro, now: datetime) -> dict[str, Any]:
    initial = max(retro.deadline, now) + timedelta(days=1)
    return modal(
        title="Change the deadline",
        callback_id=EXTEND_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=[
            mrkdwn(f"*{escape(retro.title)}* collects answers until {slack_date(retro.deadline)}."),
            InputBlock(
                block_id=EXTEND_DEADLINE_BLOCK,
                label="New deadline",
                element=DateTimePickerElement(
                    action_id=VALUE_ACTION, initial_date_time=int(initial.timestamp())
                ),
            ),
        ],
    )


USAGE = (
    "*Rearview runs asynchronous retrospectives in this channel.*\n"
    "• `/retro new [title]`: start a retro (you become its facilitator)\n"
    "• `/retro status`: who has answered, items so far, time left\n"
    "• `/retro mine`: your own items, to edit or delete until the deadline\n"
    "• `/retro remind`: nudge everyone who has not answered yet (facilitator)\n"
    "• `/retro extend`: change the collection deadline (facilitator)\n"
    "• `/retro next`: move on: collection → round-robin → voting → results (facilitator)\n"
    "• `/retro skip`, `/retro pause`, `/retro resume`: steer the round-robin (facilitator)\n"
    "• `/retro action <what> @owner [due]`: create an action item; the owner is told by DM\n"
    "• `/retro actions [mine | @person | all]`: open action items with owners and due dates\n"
    "• `/retro close`: close the retro and publish `retrospective.md` (facilitator)\n"
    "• `/retro report [number or title]`: upload a retro's `retrospective.md` again\n"
    "• `/retro cancel <reason>`: end the retro without a report (facilitator)\n"
    "• `/retro history`: this channel's last retros with their figures and a chart\n"
    "• `/retro help`: this message\n"
    "Add items in the kickoff thread or in a DM to me, one per line: `+` went well, `-` went wrong, "
    "`*` or `>` to improve (or the first three categories of the retro's format). Thread replies show your "
    "name; for anonymous items DM me (start with `anon`) or use the *Add item* button."
)


def history_message(*, channel_id: str, retros: Sequence[Retro], metrics: dict[int, RetroMetrics]) -> Message:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{round(100 * value)}%"

    lines: list[str] = []
    for retro in retros:
        head = f"*#{retro.id} {escape(clip(retro.title, 80))}* · {retro.created_at.date().isoformat()}"
        if retro.phase == Phase.CANCELLED:
            lines.append(f"{head} · cancelled: {escape(clip(retro.cancel_reason or '', 200))}")
            continue
        m = metrics[retro.id]
        smooth = f"{m.average_smoothness:.1f}" if m.average_smoothness is not None else "—"
        lines.append(
            f"{head} · {retro.phase}\nparticipation {pct(m.participation)} ({m.responded}/{m.invited}) · "
            f"{plural(m.items, 'item')} · action items {m.actions_done}/{m.actions_created} done "
            f"(on time {pct(m.on_time)}) · smoothness {smooth}"
        )
    if not lines:
        text = f"No retros in {channel_link(channel_id)} yet. Start one with `/retro new [title]`."
        return Message(text=text, blocks=dicts([mrkdwn(text)]))
    blocks: list[Block] = [
        mrkdwn(f":chart_with_upwards_trend: *Retro history of {channel_link(channel_id)}*")
    ]
    blocks.extend(mrkdwn(line) for line in lines)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="`rearview report <number>` or `/retro report <number>` gives any report."
                )
            ]
        )
    )
    return Message(text=f"Retro history of {channel_link(channel_id)}", blocks=dicts(blocks))


def close_modal(*, retro: Retro) -> dict[str, Any]:
    return modal(
        title="Close the retro",
        callback_id=CLOSE_CALLBACK,
        submit="Close and publish",
        close="Cancel",
        private_metadata=json.dumps({"retro_id": retro.id}),
        blocks=[
            mrkdwn(
                f"Closing *{escape(retro.title)}* posts a summary in its thread and uploads `retrospective.md` "
                f"to {channel_link(retro.channel_id)}."
            ),
            InputBlock(
                block_id=STAKEHOLDER_BLOCK,
                label="Also share a short summary with",
                optional=True,
                element=ConversationSelectElement(
                    action_id=VALUE_ACTION,
                    placeholder="A stakeholder channel (optional)",
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
                hint="Highlights, key learnings, top improvements and a link to the full report. Invite me there first.",
            ),
        ],
    )


def stakeholder_summary(
    *,
    retro: Retro,
    stats: RetroStats,
    highlights: Sequence[str],
    learnings: Sequence[str],
    improvements: Sequence[str],
) -> Message:
    def bullets(lines: Sequence[str], empty: str) -> str:
        return "\n".join(f"• {escape(clip(line, 300))}" for line in lines[:5]) or f"_{empty}_"

    rating = f"{stats.average_smoothness:.1f}/10" if stats.average_smoothness is not None else "no ratings"
    link = (
        f"<{retro.report_url}|the full report>"
        if retro.report_url
        else f"the full report in {channel_link(retro.channel_id)}"
    )
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Retro summary: {retro.title}", 150)),
        mrkdwn(
            f"{stats.responded} of {stats.invited} people took part · smoothness {rating} · "
            f"facilitated by {mention(retro.facilitator_id)}"
        ),
        mrkdwn("*Highlights*\n" + bullets(highlights, "none recorded")),
        mrkdwn("*Key learnings*\n" + bullets(learnings, "none recorded")),
        mrkdwn("*Top improvements*\n" + bullets(improvements, "none voted on")),
        ContextBlock(elements=[MarkdownTextObject(text=f"Details, votes and action items: {link}.")]),
    ]
    return Message(text=f"Retro summary: {escape(retro.title)}", blocks=dicts(blocks))
