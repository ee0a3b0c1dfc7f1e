"""The kickoff message in the retro channel and the facilitator's notes around starting a retro."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from bot.domain import FORMATS, PRIME_DIRECTIVE, RetroFormat
from messages.common import (
    ADD_ITEM_ACTION,
    MY_ITEMS_ACTION,
    OPEN_SURVEY_ACTION,
    Message,
    anonymity_note,
    category_list,
    dicts,
    mrkdwn,
)
from messages.new_retro import release_lines
from messages.text import channel_link, clip, escape, mention, owner_label, plural, slack_date
from storage.models import ActionItem, Retro, RetroPlan

MAX_MENTIONS = 40


def _participant_mentions(user_ids: Sequence[str]) -> str:
    shown = " ".join(mention(u) for u in user_ids[:MAX_MENTIONS])
    hidden = len(user_ids) - MAX_MENTIONS
    return shown + (f" and {hidden} more" if hidden > 0 else "")


PREVIOUS_ACTION = "previous_action"
MAX_PREVIOUS = 20
_DECIDED = {"carried": "carried over", "done": "done", "dropped": "dropped"}


def _previous_blocks(previous: Retro | None, items: Sequence[ActionItem]) -> list[Block]:
    """The previous retro's open action items, each with the facilitator's choices."""
    if previous is None or not items:
        return []
    out: list[Block] = [mrkdwn(f"*Open action items from {escape(previous.title)}*")]
    for action_item in items[:MAX_PREVIOUS]:
        due = action_item.due_date.isoformat() if action_item.due_date else "no due date"
        line = f"• {escape(clip(action_item.text, 500))} — {owner_label(action_item)}, due {due}"
        if action_item.status != "open":
            out.append(mrkdwn(f"{line} · _{_DECIDED.get(action_item.status, action_item.status)}_"))
            continue
        out.append(
            SectionBlock(
                block_id=f"previous_{action_item.id}",
                text=MarkdownTextObject(text=line),
                accessory=OverflowMenuElement(
                    action_id=PREVIOUS_ACTION,
                    options=[
                        Option(value=f"carry:{action_item.id}", text="Carry over"),
                        Option(value=f"done:{action_item.id}", text="Mark done"),
                        Option(value=f"drop:{action_item.id}", text="Drop"),
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


def _planned_blocks(retro: Retro, plan: RetroPlan | None) -> list[Block]:
    if plan is None:
        return []
    lines = [
        f"Planned by this channel's {'release trigger' if plan.source == 'release' else 'schedule'}. "
        f"Facilitator this time: {mention(retro.facilitator_id)}"
        + (f"; next time: {mention(plan.next_facilitator_id)}." if plan.next_facilitator_id else ".")
    ]
    if plan.reviewed_at is None:
        lines.append(
            ":information_source: Nobody reviewed this retro's plan before it started: it runs with the "
            "channel's usual settings."
        )
    return [ContextBlock(elements=[MarkdownTextObject(text=" ".join(lines))])]


def kickoff_message(
    *,
    retro: Retro,
    participant_ids: Sequence[str],
    previous: Retro | None = None,
    previous_items: Sequence[ActionItem] = (),
    recurring: Sequence[tuple[str, int, int]] = (),
    plan: RetroPlan | None = None,
) -> Message:
    """`plan`: the plan this retro started from (a cadence's or a release's), if any: the kickoff names this
    time's facilitator and the next one, and says when nobody reviewed the plan."""
    fmt = FORMATS[retro.format]
    deadline = slack_date(retro.deadline)
    title = escape(retro.title)
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Retrospective: {retro.title}", 150)),
        mrkdwn(
            f"{mention(retro.facilitator_id)} started an asynchronous retrospective. "
            f"Answers are collected until *{deadline}*."
        ),
        *_planned_blocks(retro, plan),
        mrkdwn(f"*The Prime Directive*\n>{PRIME_DIRECTIVE}"),
        mrkdwn(_release_section(retro)),
        *_previous_blocks(previous, previous_items),
        *_recurring_blocks(recurring),
        mrkdwn(
            "*How to take part*\nEach participant gets a DM from me with a short survey: "
            f"{category_list(fmt)}, a 1–10 rating of how smoothly it went, and what surprised you. "
            "Answer whenever it suits you; you can change your answers until the deadline.\n"
            + _thread_help(fmt)
            + anonymity_note(retro)
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


def start_failed_text(*, error: str) -> str:
    """To the facilitator when Slack refused the retro's start for a reason other than the channel."""
    return (
        f"I couldn't start the retro because Slack answered `{escape(error)}`. Please try `/retro new` again."
    )


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


# ------------------------------------------------------------ /retro invite

INVITE_USAGE = (
    "Usage: `/retro invite @person [@person …]` (facilitator, while the retro collects answers): adds them to "
    "this channel's retro and sends each the survey by DM."
)
INVITE_NO_GROUPS = (
    "I invite people one by one: mention each of them (`/retro invite @ana @ben`). User groups, @channel, "
    "@here and @everyone are not expanded, so I invited nobody."
)


def may_invite(*, retro: Retro) -> str:
    """Ends "Only the facilitator, @them, …"."""
    return f"can invite people to *{escape(retro.title)}*"


def invite_closed_text(*, retro: Retro) -> str:
    return f"Collection for *{escape(retro.title)}* is over (phase: {retro.phase}): nobody can be invited any more."


def _people(user_ids: Sequence[str]) -> str:
    names = [mention(u) for u in user_ids]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


_SKIPPED = {"bot": "a bot", "deactivated": "deactivated"}


def invited_text(
    *, retro: Retro, added: Sequence[str], already: Sequence[str], skipped: Sequence[tuple[str, str]]
) -> str:
    """The facilitator's summary of `/retro invite`: "Invited @a and @b; @c was already in." """
    parts = [f"Invited {_people(added)} to *{escape(retro.title)}*" if added else "I invited nobody new"]
    if already:
        parts.append(f"{_people(already)} {'was' if len(already) == 1 else 'were'} already in")
    for user_id, why in skipped:
        parts.append(f"skipped {mention(user_id)} ({_SKIPPED.get(why, f'Slack says `{escape(why)}`')})")
    return "; ".join(parts) + "."
