"""Action items: created with an owner and a due date, followed until they are done or dropped."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.dates import UnreadableDate, parse_due
from bot.domain import MAX_ITEM_LENGTH
from bot.errors import DomainError, InvalidInput
from bot.intents import Priority
from bot.outbox import Outbox
from bot.services.action_item_notices import ActionItemNotices
from bot.services.home import HomeService
from bot.services.lookup import require_channel_retro, require_retro
from bot.services.people import People
from bot.services.permissions import only_facilitator, require_action_item_creator
from bot.services.submissions import first_submission
from bot.services.timers import Timers, followup_date
from bot.timing import zone
from messages import action_items
from storage import action_items as queries
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.models import ActionItem, Item, Retro

if TYPE_CHECKING:
    from bot.services.trackers import TrackerService

logger = logging.getLogger(__name__)

PRIORITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class ActionItemDraft:
    team_id: str
    retro_id: int
    created_by: str
    text: str
    owner_id: str | None
    due_text: str | None
    priority: str = "medium"
    link: str | None = None
    source_item_id: int | None = None
    view_id: str | None = None  # the modal this came from: submitted again, it stores nothing more
    owner_group_id: str | None = None  # a Slack user group owning it; `owner_id` is its point person
    owner_group_handle: str | None = None


@dataclass(frozen=True)
class NewActionItem:
    """What the new-action-item modal starts from: the retro, the result it comes from (if any), and the
    due date an empty field means."""

    retro: Retro
    source: Item | None
    default_due: date


@dataclass(frozen=True)
class ActionItemListing:
    """`/retro actions`: one owner's open items (`owner_id`), or else those of the channel's retros."""

    owner_id: str | None
    channel_id: str
    action_items: list[ActionItem]
    today: date


def is_plain_url(link: str) -> bool:
    """An http(s) URL with a host and nothing Slack would read as markup: no `<`, `>` or `|` (which could
    close our `<link|label>` and open a mention, @channel or a link of their own), no whitespace or
    control or invisible formatting characters."""
    if len(link) > 500 or any(
        c in "<>|" or c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in link
    ):
        return False
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https") and bool(parts.hostname) and link.startswith(parts.scheme + "://")
    )


def require_action_item(
    session: Session, team_id: str, action_item_id: int, *, lock: bool = False
) -> ActionItem:
    """`lock`: for a change of status; on PostgreSQL a second change waits for the first."""
    action_item = queries.get(session, team_id=team_id, action_item_id=action_item_id, lock=lock)
    if action_item is None:
        raise DomainError("That action item no longer exists.")
    return action_item


class ActionItemService:
    def __init__(
        self,
        *,
        engine: Engine,
        outbox: Outbox,
        clock: Clock,
        timers: Timers,
        people: People,
        home: HomeService,
        notices: ActionItemNotices,
        tickets: TrackerService | None = None,
    ) -> None:
        self.tickets = tickets  # the channel's tracker, if it has one, gets a ticket for each new item
        self.notices = notices
        self.home = home
        self.engine = engine
        self.outbox = outbox
        self.clock = clock
        self.timers = timers
        self.people = people

    # ------------------------------------------------------------ creating

    def retro_for_channel(self, *, team_id: str, channel_id: str) -> Retro:
        """The channel's open retro, or else its latest one: action items often come after the close."""
        with unit_of_work(self.engine) as session:
            return require_channel_retro(session, team_id, channel_id, include_closed=True)

    def new_item(
        self, *, team_id: str, retro_id: int, user_id: str, source_item_id: int | None = None
    ) -> NewActionItem:
        """What the action-item modal shows, for the facilitator; from a result when there is one."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            only_facilitator(
                retro,
                user_id,
                "creates action items here. Participants can use `/retro action <what> @owner [due]` in the channel",
            )
            source = None
            if source_item_id is not None:
                source = queries.source_item(
                    session, team_id=team_id, item_id=source_item_id, retro_id=retro_id
                )
            return NewActionItem(retro=retro, source=source, default_due=followup_date(retro))

    def create(self, draft: ActionItemDraft) -> ActionItem | None:
        """Validate everything (the owner with one fast users.info) and store; fit for the ack path.
        Raises InvalidInput keyed by field name (messages.action_items.FIELDS). None: the same modal
        (`draft.view_id`) was stored already, and nothing more is."""
        errors: dict[str, str] = {}
        text = draft.text.strip()
        if not text:
            errors["text"] = "Say what should be done."
        elif len(text) > MAX_ITEM_LENGTH:
            errors["text"] = f"Keep it under {MAX_ITEM_LENGTH:,} characters."
        if draft.priority not in PRIORITIES:
            errors["priority"] = "Pick high, medium or low."
        link = (draft.link or "").strip() or None
        if link and not is_plain_url(link):
            errors["link"] = (
                "Give one full link starting with https:// (no spaces, no <, > or |, at most 500 "
                "characters), or leave it empty."
            )
        owner_name, owner_tz = "", None
        if not draft.owner_id:
            errors["owner"] = "Pick an owner: an action item is never left unowned."
        else:
            problem, owner_name, owner_tz, known = self._check_owner(draft.team_id, draft.owner_id)
            if problem:
                errors["owner"] = problem
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, draft.team_id, draft.retro_id)
            require_action_item_creator(session, retro, draft.created_by)
            due = followup_date(retro)
            if draft.due_text and draft.due_text.strip():
                today = self.clock().astimezone(zone(owner_tz)).date()
                try:
                    due = parse_due(draft.due_text, today=today)
                except UnreadableDate as exc:
                    errors["due"] = str(exc)
            if draft.source_item_id is not None:
                source = queries.source_item(session, team_id=draft.team_id, item_id=draft.source_item_id)
                if source is None or source.retro_id != draft.retro_id:
                    errors["text"] = "The item this came from no longer exists."
            if errors:
                raise InvalidInput(errors)
            assert draft.owner_id is not None
            if not first_submission(session, team_id=draft.team_id, view_id=draft.view_id, now=self.clock()):
                return None
            action_item = ActionItem(
                team_id=draft.team_id,
                retro_id=draft.retro_id,
                text=text,
                owner_id=draft.owner_id,
                owner_name=owner_name,
                owner_tz=owner_tz,
                owner_group_id=draft.owner_group_id,
                owner_group_handle=(draft.owner_group_handle or "").strip() or None,
                due_date=due,
                priority=draft.priority,
                link=link,
                source_item_id=draft.source_item_id,
                created_by=draft.created_by,
                created_at=self.clock(),
            )
            session.add(action_item)
            session.flush()
            # The owner hears at once: what, why, when, where, with buttons to answer.
            self._tell_owner(session, action_item, retro)
            if self.tickets is not None:
                self.tickets.queue_ticket(session, action_item, retro)
            if not known:
                # Not in the cache: the owner is checked after the ack, and the facilitator hears if it fails.
                self.outbox.task(
                    session,
                    team_id=action_item.team_id,
                    name="check_owner",
                    args={"action_id": action_item.id},
                    key=f"check_owner:{action_item.id}",
                )
            session.commit()
            session.refresh(action_item)
        self.timers.reschedule_action_item(action_item)
        return action_item

    def _tell_owner(self, session: Session, action_item: ActionItem, retro: Retro) -> None:
        source = (
            queries.source_item(session, team_id=action_item.team_id, item_id=action_item.source_item_id)
            if action_item.source_item_id
            else None
        )
        message = action_items.assigned_message(retro=retro, action_item=action_item, source=source)
        self.notices.notice(
            session,
            action_item,
            retro,
            "assigned",
            message,
            priority=Priority.URGENT,
            report_to=retro.facilitator_id,
            what=action_items.assigned_what(action_item=action_item),
        )
        self.home.queue(session, team_id=action_item.team_id, user_id=action_item.owner_id)

    def check_owner(self, *, team_id: str, action_item_id: int) -> None:
        """Task: look the owner up (a cache miss at creation), store their name and zone, and tell the
        facilitator if nobody can own it."""
        with unit_of_work(self.engine) as session:
            action_item = require_action_item(session, team_id, action_item_id)
        resolved = self.people.resolve(team_id, [action_item.owner_id])
        user = resolved.people.get(action_item.owner_id)
        with unit_of_work(self.engine) as session:
            action_item = require_action_item(session, team_id, action_item_id)
            retro = require_retro(session, team_id, action_item.retro_id)
            if user is None or user.is_bot or user.deleted:
                why = (
                    "I can't find them in this workspace."
                    if user is None
                    else "they are a bot."
                    if user.is_bot
                    else "they have left the workspace."
                )
                self.outbox.tell(
                    session,
                    team_id=team_id,
                    user=retro.facilitator_id,
                    channel=retro.channel_id,
                    text=action_items.cannot_own_text(action_item=action_item, why=why),
                    key=f"check_owner:{action_item.id}:told",
                )
                if action_item.status == "open":
                    # Nobody can own it: it is not kept open, reminded or followed up.
                    action_item.status = "dropped"
                    action_item.status_note = f"Nobody can own it: {why}"
                    action_item.closed_at = self.clock()
                    session.add(action_item)
            else:
                action_item.owner_name, action_item.owner_tz = user.name, user.tz
                session.add(action_item)
            session.commit()
            session.refresh(action_item)
        self.timers.reschedule_action_item(action_item)  # moved to the owner's zone, or cancelled if dropped

    def _check_owner(self, team_id: str, user_id: str) -> tuple[str | None, str, str | None, bool]:
        """(problem, name, zone, known) from the people cache: no Slack call, it runs before the ack."""
        with unit_of_work(self.engine) as session:
            user = self.people.cached(session, team_id, user_id)
        if user is None:
            return None, "", None, False
        if user.is_bot:
            return f"{user.name} is a bot. Action items need a person to own them.", "", None, True
        if user.deleted:
            return f"{user.name} has left the workspace. Pick someone who can do it.", "", None, True
        return None, user.name, user.tz, True

    def retro_of_item(self, *, team_id: str, item_id: int) -> int:
        with unit_of_work(self.engine) as session:
            item = queries.source_item(session, team_id=team_id, item_id=item_id)
            if item is None:
                raise DomainError("That item no longer exists.")
            return item.retro_id

    def get(self, *, team_id: str, action_item_id: int) -> ActionItem:
        """One action item (for its due-date and can't-do-it modals)."""
        with unit_of_work(self.engine) as session:
            return require_action_item(session, team_id, action_item_id)

    # ------------------------------------------------------------ listing

    def listing(self, *, team_id: str, channel_id: str, user_id: str, scope: str) -> ActionItemListing:
        """`/retro actions [mine | @user | all]`: open items with owners and due dates."""
        with unit_of_work(self.engine) as session:
            if scope == "mine" or scope.startswith("<@"):
                owner = user_id if scope == "mine" else scope[2:].split("|")[0].rstrip(">")
                found = queries.open_items(session, team_id=team_id, owner_id=owner)
                return ActionItemListing(owner, channel_id, found, self.clock().date())
            retro_ids = [
                r.id for r in retro_queries.retros_in_channel(session, team_id=team_id, channel_id=channel_id)
            ]
            found = queries.open_items(session, team_id=team_id, retro_ids=retro_ids)
            return ActionItemListing(None, channel_id, found, self.clock().date())
