"""Who may do what, with the refusal that says who can."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from bot.errors import NotFacilitator
from messages.action_items import not_participant_text, not_yours_plain, not_yours_text
from messages.ballot import not_a_voter_text
from messages.common import not_facilitator_plain, not_facilitator_text
from messages.items import not_a_member_text
from messages.text import escape
from storage.models import ActionItem, Retro, RetroPlan, RetroSchedule
from storage.plans import schedule_for_channel
from storage.retros import get_participant, latest_in_channel


def only_facilitator(retro: Retro, user_id: str, may: str, *, may_plain: str | None = None) -> None:
    """Refuse anyone but the retro's facilitator. `may` ends the sentence "Only the facilitator, @them, …",
    as in "can close *Q3*" or "decides on earlier action items"; `may_plain` is the same without markup
    (for a modal's inline error), when `may` has any."""
    if retro.facilitator_id != user_id:
        raise NotFacilitator(
            not_facilitator_text(facilitator_id=retro.facilitator_id, may=may),
            plain=not_facilitator_plain(retro=retro, may=may if may_plain is None else may_plain),
        )


def only_facilitator_of_plan(plan: RetroPlan, user_id: str, may: str) -> None:
    """A retro plan is its facilitator's to start, edit or skip."""
    if plan.facilitator_id != user_id:
        raise NotFacilitator(
            not_facilitator_text(facilitator_id=plan.facilitator_id, may=may),
            plain=f"Only this retro's facilitator {may}.",
        )


class Role(StrEnum):
    FACILITATOR = "facilitator"  # the retro's facilitator
    PARTICIPANT = "participant"  # invited to the retro, or answered it (a Participant row)
    OWNER = "owner"  # owns the action item in question
    SCHEDULER = "scheduler"  # made the channel's retro schedule
    SCHEDULE_FACILITATOR = (
        "schedule_facilitator"  # the schedule's fixed facilitator (its creator, for a rotation)
    )
    IN_ROTATION = "in_rotation"  # one of the schedule's rotating facilitators (kept only for a rotation)


@dataclass(frozen=True)
class Rule:
    who: frozenset[Role]
    phases: str  # when, in words: the services check the phase or status themselves


# Who may do what: one table, checked by the services and tested cell by cell
# (tests/adversarial/test_permission_table.py). Phase changes stay facilitator-only (only_facilitator).
RULES: dict[str, Rule] = {
    "open_action_item_modal": Rule(frozenset({Role.FACILITATOR}), "any phase"),
    "create_action_item": Rule(frozenset({Role.FACILITATOR, Role.PARTICIPANT}), "any phase"),
    "complete_action_item": Rule(frozenset({Role.OWNER, Role.FACILITATOR}), "while the item is open"),
    "change_due_date": Rule(frozenset({Role.OWNER, Role.FACILITATOR}), "while the item is open"),
    "cannot_do": Rule(frozenset({Role.OWNER, Role.FACILITATOR}), "while the item is open"),
    "vote": Rule(frozenset({Role.FACILITATOR, Role.PARTICIPANT}), "while voting is open"),
    # The kickoff's buttons and modals, and DMs. A reply in the kickoff thread is not checked: Slack only
    # delivers those from people in the channel, and posting there makes one a participant.
    "add_item": Rule(frozenset({Role.FACILITATOR, Role.PARTICIPANT}), "while collection is open"),
    "answer_survey": Rule(frozenset({Role.FACILITATOR, Role.PARTICIPANT}), "while collection is open"),
    # A channel's schedule (/retro schedule's Edit, Pause, Resume, Delete): whoever runs its retros.
    "change_schedule": Rule(
        frozenset({Role.SCHEDULER, Role.SCHEDULE_FACILITATOR, Role.IN_ROTATION}), "while it exists"
    ),
    # Where a channel's overdue action items go (/retro escalate): whoever runs its retros. FACILITATOR here
    # is the facilitator of the channel's last retro.
    "change_escalation": Rule(
        frozenset({Role.FACILITATOR, Role.SCHEDULER, Role.SCHEDULE_FACILITATOR, Role.IN_ROTATION}), "any time"
    ),
    # A channel's tracker connection (/retro tracker): the facilitator of the channel's latest retro (in a
    # channel that has had none, whoever sets it up first).
    "change_tracker": Rule(frozenset({Role.FACILITATOR}), "any time"),
}

SCHEDULE_KEEPERS_PLAIN = (
    "Only the schedule's creator, its facilitator or the people in its facilitator rotation can {may}."
)


def schedule_roles(schedule: RetroSchedule, user_id: str) -> set[Role]:
    found = set()
    if schedule.created_by == user_id:
        found.add(Role.SCHEDULER)
    if schedule.facilitator_id == user_id:
        found.add(Role.SCHEDULE_FACILITATOR)
    if user_id in schedule.rotation:
        found.add(Role.IN_ROTATION)
    return found


def require_schedule_keeper(schedule: RetroSchedule, user_id: str, may: str) -> None:
    """`may` ends "Only the schedule's creator, … can", as in "pause this channel's retro schedule"."""
    if not RULES["change_schedule"].who & schedule_roles(schedule, user_id):
        text = SCHEDULE_KEEPERS_PLAIN.format(may=may)
        raise NotFacilitator(text, plain=text)


ESCALATION_KEEPERS_PLAIN = (
    "Only the facilitator of this channel's last retro, or the creator, facilitator or rotation of its retro "
    "schedule, can change where its overdue action items are escalated."
)


def require_escalation_keeper(session: Session, *, team_id: str, channel_id: str, user_id: str) -> None:
    found: set[Role] = set()
    latest = latest_in_channel(session, team_id=team_id, channel_id=channel_id, limit=1)
    if latest and latest[0].facilitator_id == user_id:
        found.add(Role.FACILITATOR)
    schedule = schedule_for_channel(session, team_id=team_id, channel_id=channel_id)
    if schedule is not None:
        found |= schedule_roles(schedule, user_id)
    if not RULES["change_escalation"].who & found:
        raise NotFacilitator(ESCALATION_KEEPERS_PLAIN, plain=ESCALATION_KEEPERS_PLAIN)


def roles(session: Session, retro: Retro, user_id: str, action_item: ActionItem | None = None) -> set[Role]:
    found = set()
    if retro.facilitator_id == user_id:
        found.add(Role.FACILITATOR)
    if action_item is not None and action_item.owner_id == user_id:
        found.add(Role.OWNER)
    if get_participant(session, team_id=retro.team_id, retro_id=retro.id, user_id=user_id) is not None:
        found.add(Role.PARTICIPANT)
    return found


def may(
    session: Session, action: str, retro: Retro, user_id: str, action_item: ActionItem | None = None
) -> bool:
    return bool(RULES[action].who & roles(session, retro, user_id, action_item))


def require_action_item_creator(session: Session, retro: Retro, user_id: str) -> None:
    if not may(session, "create_action_item", retro, user_id):
        raise NotFacilitator(
            not_participant_text(retro=retro, facilitator_id=retro.facilitator_id),
            plain=not_participant_text(
                retro=retro, facilitator_id=None, facilitator_name=retro.facilitator_name
            ),
        )


def require_action_item_changer(
    session: Session, action: str, retro: Retro, action_item: ActionItem, user_id: str
) -> None:
    if not may(session, action, retro, user_id, action_item):
        raise NotFacilitator(
            not_yours_text(owner_id=action_item.owner_id, facilitator_id=retro.facilitator_id),
            plain=not_yours_plain(owner_name=action_item.owner_name, facilitator_name=retro.facilitator_name),
        )


def require_tracker_keeper(session: Session, retro: Retro, user_id: str) -> None:
    """`retro`: the channel's latest. Its facilitator connects (or changes) the channel's tracker."""
    if not may(session, "change_tracker", retro, user_id):
        only_facilitator(
            retro,
            user_id,
            f"of the channel's latest retro, *{escape(retro.title)}*, can set the channel's tracker",
            may_plain=f"of the channel's latest retro, {retro.title}, can set the channel's tracker",
        )


def require_voter(session: Session, retro: Retro, user_id: str) -> None:
    """A ballot is for the retro's people: a forged click or a shared ballot from anyone else is refused."""
    if not may(session, "vote", retro, user_id):
        raise NotFacilitator(
            not_a_voter_text(retro=retro, facilitator_id=retro.facilitator_id),
            plain=not_a_voter_text(retro=retro, facilitator_id=None, facilitator_name=retro.facilitator_name),
        )


def require_contributor(session: Session, action: str, retro: Retro, user_id: str) -> None:
    """Adding items and answering the survey ("add_item", "answer_survey") is for the retro's people: a forged
    click, a shared modal or a DM from anyone else is refused, saying how to get in."""
    if not may(session, action, retro, user_id):
        raise NotFacilitator(
            not_a_member_text(retro=retro, user_id=user_id, facilitator_id=retro.facilitator_id),
            plain=not_a_member_text(
                retro=retro, user_id=None, facilitator_id=None, facilitator_name=retro.facilitator_name
            ),
        )
