"""A channel's tracker: the `/retro tracker` modal (GitHub Issues, Jira or a webhook; a stored secret shows
as "•••• set" and is kept unless replaced), what the facilitator is told about it, and the ticket's body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)

from bot.trackers import LABELS
from messages.common import VALUE_ACTION, modal, mrkdwn
from messages.text import channel_link, clip, escape, mention

TRACKER_CALLBACK = "tracker_settings"
KIND_BLOCK = "tracker_kind"
URL_BLOCK = "tracker_url"
PROJECT_BLOCK = "tracker_project"
EMAIL_BLOCK = "tracker_email"
SECRET_BLOCK = "tracker_secret"  # noqa: S105 - a block id, not a password

FIELDS = {
    "kind": KIND_BLOCK,
    "url": URL_BLOCK,
    "project": PROJECT_BLOCK,
    "email": EMAIL_BLOCK,
    "secret": SECRET_BLOCK,
}

KIND_OPTIONS = {
    "github": "GitHub Issues",
    "jira": "Jira",
    "webhook": "Outgoing webhook (JSON, signed)",
    "none": "None: stop creating tickets",
}
SECRET_SET = "•••• set"  # noqa: S105 - what a stored secret shows as


@dataclass(frozen=True)
class TrackerForm:
    """What the modal starts from: the channel's connection without its secret."""

    channel_id: str
    kind: str | None
    url: str
    project: str
    email: str
    has_secret: bool


def tracker_modal(form: TrackerForm) -> dict[str, Any]:
    options = [Option(value=k, text=v) for k, v in KIND_OPTIONS.items()]
    initial = next((o for o in options if o.value == form.kind), options[0])
    secret_hint = (
        f"{SECRET_SET}: leave empty to keep it, or type a new one."
        if form.has_secret
        else "GitHub: a token that can create issues. Jira: an API token. Webhook: the shared secret it is signed with."
    )
    blocks: list[Block] = [
        mrkdwn(
            f"Action items created in {channel_link(form.channel_id)} become tickets here, and a ticket closed "
            "in GitHub or Jira marks its action item done. Credentials are stored encrypted and never shown again."
        ),
        InputBlock(
            block_id=KIND_BLOCK,
            label="Tracker",
            element=StaticSelectElement(action_id=VALUE_ACTION, options=options, initial_option=initial),
        ),
        InputBlock(
            block_id=PROJECT_BLOCK,
            label="Repository or project",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION, initial_value=form.project or None, max_length=200
            ),
            hint="GitHub: owner/name. Jira: the project key (OPS). Not needed for a webhook.",
        ),
        InputBlock(
            block_id=URL_BLOCK,
            label="Server or URL",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION, initial_value=form.url or None, max_length=500
            ),
            hint="Jira: https://yours.atlassian.net. Webhook: where to POST. GitHub: empty, or your Enterprise API URL.",
        ),
        InputBlock(
            block_id=EMAIL_BLOCK,
            label="Jira account e-mail",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION, initial_value=form.email or None, max_length=200
            ),
        ),
        InputBlock(
            block_id=SECRET_BLOCK,
            label="Token or secret",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                max_length=500,
                placeholder=SECRET_SET if form.has_secret else None,
            ),
            hint=secret_hint,
        ),
    ]
    return modal(
        title="Tracker",
        callback_id=TRACKER_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": form.channel_id}),
        blocks=blocks,
    )


def not_in_a_channel_text() -> str:
    return "Run `/retro tracker` in the channel whose action items should become tickets."


def no_secret_text() -> str:
    return (
        "Trackers need `REARVIEW_SECRET` set on the server: tracker credentials are stored encrypted with it. "
        "Ask whoever runs Rearview to set it (any long random string, e.g. `openssl rand -hex 32`) and restart it."
    )


def check_text(*, kind: str, channel_id: str, error: str | None) -> str:
    where = f"{LABELS.get(kind, kind)} for {channel_link(channel_id)}"
    if error is None:
        return f":white_check_mark: Connected to {where}: new action items here become tickets there."
    return (
        f":warning: I saved the tracker ({where}) but could not use it: {escape(clip(error, 300))}. "
        "Check the settings with `/retro tracker`; tickets will be tried anyway."
    )


def removed_text(*, channel_id: str) -> str:
    return f"Action items in {channel_link(channel_id)} no longer become tickets."


def ticket_failed_text(*, kind: str, text: str, owner_id: str, reason: str) -> str:
    return (
        f":warning: I could not create a ticket in {LABELS.get(kind, kind)} for the action item owned by "
        f"{mention(owner_id)}:\n>{escape(clip(text, 500))}\n*Reason:* {escape(clip(reason, 300))}\n"
        "The action item itself is kept and followed up as usual."
    )


def ticket_title(text: str) -> str:
    first = " ".join(text.split())
    return clip(first, 200)


def ticket_body(
    *,
    text: str,
    owner: str,
    due: str,
    priority: str,
    retro_title: str,
    report_url: str | None,
    source: str | None,
    marker: str,
) -> str:
    """Markdown for GitHub and Jira. The text is a person's: plain in a tracker, where nothing pings a channel."""
    lines = [
        text,
        "",
        f"- **Owner:** {owner}",
        f"- **Due:** {due}",
        f"- **Priority:** {priority}",
        f"- **Retro:** {retro_title}" + (f" ({report_url})" if report_url else ""),
    ]
    if source:
        lines.append(f"- **From the item:** {source}")
    lines += ["", f"<!-- {marker} -->", f"_Created by Rearview ({marker})._"]
    return "\n".join(lines)
