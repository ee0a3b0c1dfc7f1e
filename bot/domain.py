"""The retro vocabulary shared by services, storage and message builders."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_ITEM_LENGTH = 1000
MAX_ROOT_CAUSE_LENGTH = 3000
MAX_TITLE_LENGTH = 150

PRIME_DIRECTIVE = (
    "Regardless of what we discover, we understand and truly believe that everyone did the best job "
    "they could, given what they knew at the time, their skills and abilities, the resources "
    "available, and the situation at hand."
)


class Phase(StrEnum):
    COLLECTING = "collecting"
    DISCUSSING = "discussing"  # the round-robin
    VOTING = "voting"
    ACTIONS = "actions"  # results are out; the team decides what to do
    COMPLETED = "completed"  # closed by the facilitator, report published
    CANCELLED = "cancelled"  # ended without a report, with a reason


class PlanStatus(StrEnum):
    PROPOSED = "proposed"  # sent to its facilitator, not reviewed yet
    REVIEWED = "reviewed"  # the facilitator looked at it (Edit saved, or confirmed): it starts on time
    WAITING = "waiting"  # its time came unreviewed in a channel that waits: the facilitator is reminded
    STARTED = "started"  # a retro was made from it (`retro_id`)
    SKIPPED = "skipped"  # "Skip this one", or superseded


OPEN_PLAN_STATUSES = (PlanStatus.PROPOSED, PlanStatus.REVIEWED, PlanStatus.WAITING)
MAX_PLAN_REMINDERS = 3  # daily reminders of a plan that waits for its facilitator's review


class TurnStatus(StrEnum):
    WAITING = "waiting"
    SCHEDULED = "scheduled"  # it is night where the person is: the turn starts in their morning
    ACTIVE = "active"
    ANSWERED = "answered"
    PASSED = "passed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"


ROUND_ROBIN_SCOPES = {"everyone": "Everyone invited", "respondents": "Only people who answered"}
TURN_HOURS = (1, 2, 4, 8, 16)
DEFAULT_TURN_HOURS = 4
DEFAULT_VOTES = 3
FOLLOWUP_WEEKS = (2, 3, 4)
MAX_VOTES = 10
VOTING_TIME_HOURS = 24


class Anonymity(StrEnum):
    NAMED = "named"
    OPTIONAL = "optional"  # each person chooses, item by item
    ANONYMOUS = "anonymous"


ANONYMITY_LABELS = {
    Anonymity.OPTIONAL: "Each person chooses (anonymous optional)",
    Anonymity.NAMED: "Named: authors are recorded",
    Anonymity.ANONYMOUS: "Always anonymous",
}

MAX_CUSTOM_QUESTIONS = 3


def custom_field(n: int) -> str:
    """The field name of the survey's answer to the n-th custom question."""
    return f"custom_{n}"


MAX_QUESTION_LENGTH = 200  # characters in one extra survey question
# Reply prefixes in the kickoff thread and in DMs, by category position in the format.
PREFIXES = {"+": 0, "-": 1, "*": 2, ">": 2}


class ItemSource(StrEnum):
    ROUND_ROBIN = "round_robin"
    SURVEY = "survey"
    MODAL = "modal"
    THREAD = "thread"
    DM = "dm"


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    emoji: str
    prompt: str


@dataclass(frozen=True)
class RetroFormat:
    key: str
    name: str
    categories: tuple[Category, ...]
    vote_on: tuple[str, ...]  # the categories worth acting on: the ballot lists their items
    problems: tuple[str, ...]  # the categories whose items can recur from retro to retro

    def category(self, key: str) -> Category:
        for category in self.categories:
            if category.key == key:
                return category
        raise KeyError(key)


FORMATS: dict[str, RetroFormat] = {
    f.key: f
    for f in (
        RetroFormat(
            "well_wrong_improve",
            "What went well / What went wrong / What to improve",
            (
                Category("went_well", "What went well", ":white_check_mark:", "What went well?"),
                Category("went_wrong", "What went wrong", ":x:", "What went wrong?"),
                Category("to_improve", "What to improve", ":bulb:", "What should we improve?"),
            ),
            ("went_wrong", "to_improve"),
            ("went_wrong",),
        ),
        RetroFormat(
            "start_stop_continue",
            "Start / Stop / Continue",
            (
                Category("start", "Start", ":arrow_forward:", "What should we start doing?"),
                Category("stop", "Stop", ":octagonal_sign:", "What should we stop doing?"),
                Category("continue", "Continue", ":repeat:", "What should we keep doing?"),
            ),
            ("start", "stop"),
            ("stop",),
        ),
        RetroFormat(
            "4ls",
            "4Ls: Liked / Learned / Lacked / Longed for",
            (
                Category("liked", "Liked", ":heart:", "What did you like?"),
                Category("learned", "Learned", ":books:", "What did you learn?"),
                Category("lacked", "Lacked", ":warning:", "What was missing?"),
                Category("longed_for", "Longed for", ":star2:", "What do you wish we had?"),
            ),
            ("lacked", "longed_for"),
            ("lacked",),
        ),
        RetroFormat(
            "mad_sad_glad",
            "Mad / Sad / Glad",
            (
                Category("mad", "Mad", ":rage:", "What made you mad?"),
                Category("sad", "Sad", ":disappointed:", "What made you sad?"),
                Category("glad", "Glad", ":smile:", "What made you glad?"),
            ),
            ("mad", "sad"),
            ("mad", "sad"),
        ),
    )
}
DEFAULT_FORMAT = "well_wrong_improve"


@dataclass(frozen=True)
class RetroStats:
    """What came in so far; figures only, never who wrote what."""

    invited: int
    responded: int
    counts: dict[str, int]
    average_smoothness: float | None

    @property
    def total_items(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class RetroMetrics:
    retro_id: int
    title: str
    day: str
    invited: int
    responded: int
    items: int
    actions_created: int
    actions_done: int
    actions_on_time: int
    average_smoothness: float | None
    roti_average: float | None = None  # "Was this retro worth your time?", 1-5
    roti_count: int = 0

    @property
    def participation(self) -> float | None:
        return self.responded / self.invited if self.invited else None

    @property
    def completion(self) -> float | None:
        return self.actions_done / self.actions_created if self.actions_created else None

    @property
    def on_time(self) -> float | None:
        return self.actions_on_time / self.actions_done if self.actions_done else None
