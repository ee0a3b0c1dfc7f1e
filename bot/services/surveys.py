"""The pre-retro survey: opening it (prefilled for editing) and saving answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import FORMATS, MAX_ITEM_LENGTH, ItemSource, custom_field
from bot.errors import InvalidInput
from bot.services.home import HomeService
from bot.services.items import ItemService, accepting, anonymous_time, answered_hour
from bot.services.kudos import KudosDraft, KudosService, kudos_errors
from bot.services.lookup import require_retro
from bot.services.permissions import require_contributor
from messages.items import late_message
from messages.text import split_lines
from storage import items as stored
from storage import retros as retro_queries
from storage.db import unit_of_work
from storage.ids import random_ids
from storage.models import Item, Participant, Response, Retro


@dataclass(frozen=True)
class SurveyAnswers:
    items: dict[str, str | None]  # category key -> the field's text, one item per line
    smoothness: int | None
    surprise: str | None
    custom: list[str | None] = field(default_factory=list)
    anonymous: bool = False
    kudos_to: str | None = None  # "Shout-out to…": who, and what for
    kudos_text: str | None = None


@dataclass(frozen=True)
class SavedSurvey:
    """What the survey modal shows: this person's saved answers (none once collection is over)."""

    retro: Retro
    accepting: bool
    answers: dict[str, list[str]] = field(default_factory=dict)  # category key -> items
    smoothness: int | None = None
    surprise: str | None = None
    custom: list[str | None] = field(default_factory=list)
    anonymous: bool = False
    kudos_to: str | None = None
    kudos_text: str | None = None


@dataclass(frozen=True)
class SurveySubmitted:
    retro: Retro
    item_count: int
    smoothness: int | None
    anonymous: bool


class SurveyService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        items: ItemService,
        home: HomeService,
        kudos: KudosService | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.items = items
        self.home = home
        self.kudos = kudos

    def saved(self, *, team_id: str, retro_id: int, user_id: str) -> SavedSurvey:
        """This person's saved answers, to open the survey prefilled (nothing once collection is over).
        Raises NotFacilitator, at the click, for someone who may not answer ("answer_survey")."""
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id)
            if not accepting(retro, self.clock()):
                return SavedSurvey(retro=retro, accepting=False)
            require_contributor(session, "answer_survey", retro, user_id)
            answers: dict[str, list[str]] = {}
            for item in self._own_survey_items(session, retro, user_id):
                answers.setdefault(item.category, []).append(item.text)
            response = self._own_response(session, retro, user_id)
            kudos = self.kudos.survey_kudos(session, retro, user_id) if self.kudos else None
            return SavedSurvey(
                retro=retro,
                accepting=True,
                answers=answers,
                smoothness=response.smoothness if response else None,
                surprise=response.surprise if response else None,
                custom=list(response.answers) if response else [],
                anonymous=bool(response and response.author_id is None),
                kudos_to=kudos.to_user_id if kudos else None,
                kudos_text=kudos.text if kudos else None,
            )

    def submit(self, *, team_id: str, retro_id: int, user_id: str, answers: SurveyAnswers) -> SurveySubmitted:
        """Validate and store, and refresh this person's Home tab. Raises InvalidInput keyed by field (a
        category's key, "smoothness", "surprise", "custom_<n>"), changing nothing.

        A submission replaces this person's earlier answers, so the same modal submitted again is an update
        that leaves the same answers. Submissions to one retro take turns (the retro's row lock; on SQLite
        the process's one writer turn): two at once would each delete nothing and both insert."""
        now = self.clock()
        with unit_of_work(self.engine) as session:
            retro = require_retro(session, team_id, retro_id, lock=True)
            fmt = FORMATS[retro.format]
            first_field = fmt.categories[0].key
            if not accepting(retro, now):
                raise InvalidInput({first_field: late_message(retro, mrkdwn=False)})
            # Checked again at the submission: a modal can be submitted by a forged payload.
            require_contributor(session, "answer_survey", retro, user_id)

            parsed: dict[str, list[str]] = {}
            errors: dict[str, str] = {}
            for category in fmt.categories:
                lines = split_lines(answers.items.get(category.key))
                too_long = [n for n, line in enumerate(lines, 1) if len(line) > MAX_ITEM_LENGTH]
                if too_long:
                    errors[category.key] = (
                        f"Line {too_long[0]} is {len(lines[too_long[0] - 1]):,} characters long: keep each item "
                        f"under {MAX_ITEM_LENGTH:,} characters, or split it over several lines."
                    )
                parsed[category.key] = lines
            if answers.smoothness is not None and not 1 <= answers.smoothness <= 10:
                errors["smoothness"] = "Pick a rating from 1 to 10."
            surprise = (answers.surprise or "").strip() or None
            if surprise and len(surprise) > MAX_ITEM_LENGTH:
                errors["surprise"] = f"Keep this under {MAX_ITEM_LENGTH:,} characters."
            custom = [(a or "").strip() or None for a in answers.custom[: len(retro.custom_questions)]]
            custom += [None] * (len(retro.custom_questions) - len(custom))
            for n, answer in enumerate(custom):
                if answer and len(answer) > MAX_ITEM_LENGTH:
                    errors[custom_field(n)] = f"Keep this under {MAX_ITEM_LENGTH:,} characters."
            empty = (
                not any(parsed.values())
                and answers.smoothness is None
                and surprise is None
                and not any(custom)
                and not answers.kudos_to
            )
            if not errors and empty:
                errors[first_field] = "The survey is empty: add at least one item, a rating or an answer."
            kudos = KudosDraft(answers.kudos_to, answers.kudos_text, answers.anonymous)
            errors.update({f"kudos_{k}": v for k, v in kudos_errors(kudos, user_id, required=False).items()})
            if errors:
                raise InvalidInput(errors)

            if self.kudos is not None:
                self.kudos.replace_survey_kudos(session, retro, user_id, kudos)
            who = self.items.attribution(retro, user_id, wants_anonymous=answers.anonymous)
            # Editing replaces this person's survey answers, whichever way they were attributed before;
            # items added other ways (thread, DM, Add item) are untouched.
            for item in self._own_survey_items(session, retro, user_id):
                session.delete(item)
            stored.delete_responses(
                session, team_id=team_id, ids=self._own_response_ids(session, retro, user_id)
            )
            session.add(
                Response(
                    team_id=team_id,
                    retro_id=retro_id,
                    author_id=who.author_id,
                    author_hash=who.author_hash,
                    smoothness=answers.smoothness,
                    surprise=surprise,
                    answers=custom,
                )
            )
            created = anonymous_time(retro) if who.anonymous else now
            entries = [(key, line) for key, lines in parsed.items() for line in lines]
            for row_id, (key, line) in zip(random_ids(len(entries)), entries, strict=True):
                session.add(
                    Item(
                        id=row_id,
                        team_id=team_id,
                        retro_id=retro_id,
                        category=key,
                        text=line,
                        author_id=who.author_id,
                        author_hash=who.author_hash,
                        source=ItemSource.SURVEY,
                        created_at=created,
                    )
                )
            participant = retro_queries.get_participant(
                session, team_id=team_id, retro_id=retro_id, user_id=user_id
            )
            if participant is None:
                # Only the facilitator gets here without a participant row (require_contributor).
                participant = Participant(team_id=team_id, retro_id=retro_id, user_id=user_id)
            participant.responded_at = answered_hour(now)
            session.add(participant)
            self.home.queue(session, team_id=team_id, user_id=user_id)
            session.commit()
            count = sum(len(lines) for lines in parsed.values())
            return SurveySubmitted(
                retro=retro, item_count=count, smoothness=answers.smoothness, anonymous=who.anonymous
            )

    def _own_survey_items(self, session: Session, retro: Retro, user_id: str) -> list[Item]:
        return list(
            stored.own_items(
                session,
                team_id=retro.team_id,
                retro_id=retro.id,
                user_id=user_id,
                author_hash=self.items.author_hash(retro, user_id),
                source=ItemSource.SURVEY,
            )
        )

    def _own_response_ids(self, session: Session, retro: Retro, user_id: str) -> list[int]:
        response = self._own_response(session, retro, user_id)
        return [response.id] if response is not None else []

    def _own_response(self, session: Session, retro: Retro, user_id: str) -> Response | None:
        return stored.own_response(
            session,
            team_id=retro.team_id,
            retro_id=retro.id,
            user_id=user_id,
            author_hash=self.items.author_hash(retro, user_id),
        )
