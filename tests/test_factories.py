"""The shared factories keep up with the models they build."""

from __future__ import annotations

from storage.models import Item, Retro
from tests.factories import ItemFields, RetroFields, make_retro


def test_the_factories_can_override_every_column() -> None:
    # The TypedDicts type the factories' overrides; a column missing there could not be set by any test.
    assert set(RetroFields.__annotations__) == set(Retro.model_fields)
    assert set(ItemFields.__annotations__) == set(Item.model_fields)


def test_an_unsaved_retro_has_an_id_and_collects_answers() -> None:
    retro = make_retro(None, title="Sprint 12")
    assert (retro.id, retro.title, retro.phase, retro.team_id) == (7, "Sprint 12", "collecting", "T1")
    assert retro.deadline > retro.created_at
