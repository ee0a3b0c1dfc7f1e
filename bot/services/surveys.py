"""The pre-retro survey: opening it (prefilled for editing) and saving answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import FORMATS, MAX_ITEM_LENGTH, ItemSource, Phase
from bot.errors import InvalidInput, NoRetroHere
from messages import blocks
from messages.text import split_lines
from storage import repositories as repo
from storage.models import Item, Participant, Retro


@dataclass(frozen=True)
class SurveyAnswers:
    items: dict[str, str | None]  # category key -> the field's text, one item per line
    smoothness: int | None
    surprise: str | None


class SurveyService:
    def __init__(self, *, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def view_for(self, *, team_id: str, retro_id: int, user_id: str) -> dict[str, Any]:
        """The survey modal with this person's saved answers, or a notice once collection is over."""
        with Session(self.engine) as session:
            retro = _retro(session, team_id, retro_id)
            if not self._accepting(retro):
                return blocks.notice_modal(title="Retro closed", text=blocks.closed_text(retro=retro))
            participant = repo.get_participant(
                session=session, team_id=team_id, retro_id=retro_id, user_id=user_id
            )
            answers: dict[str, list[str]] = {}
            for item in repo.items_by_author(
                session=session,
                team_id=team_id,
                retro_id=retro_id,
                author_id=user_id,
                source=ItemSource.SURVEY,
            ):
                answers.setdefault(item.category, []).append(item.text)
            return blocks.survey_modal(
                retro=retro,
                answers=answers,
                smoothness=participant.smoothness if participant else None,
                surprise=participant.surprise if participant else None,
            )

    def submit(self, *, team_id: str, retro_id: int, user_id: str, answers: SurveyAnswers) -> dict[str, Any]:
        """Validate and store; returns the thank-you view. Raises InvalidInput, changing nothing."""
        now = self.clock()
        with Session(self.engine) as session:
            retro = _retro(session, team_id, retro_id)
            fmt = FORMATS[retro.format]
            first_block = blocks.survey_block_id(fmt.categories[0].key)
            if not self._accepting(retro):
                raise InvalidInput({first_block: CLOSED_ERROR})

            parsed: dict[str, list[str]] = {}
            errors: dict[str, str] = {}
            for category in fmt.categories:
                lines = split_lines(answers.items.get(category.key))
                too_long = [n for n, line in enumerate(lines, 1) if len(line) > MAX_ITEM_LENGTH]
                if too_long:
                    errors[blocks.survey_block_id(category.key)] = (
                        f"Line {too_long[0]} is {len(lines[too_long[0] - 1]):,} characters long: keep each item "
                        f"under {MAX_ITEM_LENGTH:,} characters, or split it over several lines."
                    )
                parsed[category.key] = lines
            if answers.smoothness is not None and not 1 <= answers.smoothness <= 10:
                errors[blocks.SURVEY_SMOOTHNESS_BLOCK] = "Pick a rating from 1 to 10."
            surprise = (answers.surprise or "").strip() or None
            if surprise and len(surprise) > MAX_ITEM_LENGTH:
                errors[blocks.SURVEY_SURPRISE_BLOCK] = f"Keep this under {MAX_ITEM_LENGTH:,} characters."
            if not errors and not any(parsed.values()) and answers.smoothness is None and surprise is None:
                errors[first_block] = "The survey is empty: add at least one item, a rating or a surprise."
            if errors:
                raise InvalidInput(errors)

            participant = repo.get_participant(
                session=session, team_id=team_id, retro_id=retro_id, user_id=user_id
            )
            if participant is None:
                # Someone who was not invited answered from the kickoff button: welcome them in.
                participant = Participant(team_id=team_id, retro_id=retro_id, user_id=user_id)
            participant.responded_at = now
            participant.smoothness = answers.smoothness
            participant.surprise = surprise
            session.add(participant)
            # Editing replaces the person's survey items; items added other ways are untouched.
            repo.delete_items_by_author(
                session=session,
                team_id=team_id,
                retro_id=retro_id,
                author_id=user_id,
                source=ItemSource.SURVEY,
            )
            for key, lines in parsed.items():
                for line in lines:
                    session.add(
                        Item(
                            team_id=team_id,
                            retro_id=retro_id,
                            category=key,
                            text=line,
                            author_id=user_id,
                            source=ItemSource.SURVEY,
                            created_at=now,
                        )
                    )
            session.commit()
            count = sum(len(lines) for lines in parsed.values())
            return blocks.survey_thanks_modal(retro=retro, item_count=count, smoothness=answers.smoothness)

    def _accepting(self, retro: Retro) -> bool:
        return retro.phase == Phase.COLLECTING and self.clock() < retro.deadline


def _retro(session: Session, team_id: str, retro_id: int) -> Retro:
    retro = repo.get_retro(session=session, team_id=team_id, retro_id=retro_id)
    if retro is None:
        raise NoRetroHere("That retro no longer exists.")
    return retro


CLOSED_ERROR = (
    "This retro is no longer collecting answers. Tell the facilitator if something important is missing."
)
