"""An action item's link can never ping a channel, mention someone or forge a link (issue 12)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.errors import InvalidInput
from bot.services import Services
from bot.services.action_items import ActionItemDraft
from messages import action_items
from storage.models import ActionItem
from tests.blockkit import mrkdwn_text
from tests.conftest import FakeClock
from tests.factories import NOW, make_retro
from tests.recording import RecordingGateway, RecordingJobs
from tests.unit.conftest import build_services

HOSTILE = [
    "https://ok.example/<!channel> ping",
    "https://ok.example/<!here>",
    "https://ok.example/<@U123>",
    "https://ok.example/|click me",
    "https://ok.example/x>|<https://evil.example",
    "https://ok.example/a b",
    "https://ok.example/a\tb",
    "https://ok.example/a\nb",
    "https://ok.example/\x00",
    "https://ok.example/\u200b",
    "https://",
    "https:///path-without-host",
    "http:ok.example",
    "javascript:alert(1)",
    "ftp://ok.example/file",
]

# What a live special mention, user mention, channel link or labelled link looks like in mrkdwn.
LIVE = re.compile(r"<(?:!|@|#)[^>]*>|<[^>|]*\|[^>]*>")


@pytest.fixture
def services(engine: Engine, clock: FakeClock) -> Services:
    gateway = RecordingGateway(members={"C1": ["UFAC", "U1"]})
    for user in ("UFAC", "U1"):
        gateway.human(user)
    return build_services(engine, clock, gateway, RecordingJobs())


def _retro(engine: Engine) -> int:
    with Session(engine) as session:
        return make_retro(session, phase="completed").id


def _stored(engine: Engine) -> list[ActionItem]:
    with Session(engine) as session:
        return list(session.exec(select(ActionItem)))


@pytest.mark.parametrize("link", HOSTILE)
def test_a_link_that_is_not_a_plain_url_is_refused_on_its_field(
    services: Services, engine: Engine, link: str
) -> None:
    retro_id = _retro(engine)
    draft = ActionItemDraft(
        team_id="T1",
        retro_id=retro_id,
        created_by="UFAC",
        text="Fix CI",
        owner_id="U1",
        due_text=None,
        link=link,
    )
    with pytest.raises(InvalidInput) as refused:
        services.action_items.create(draft)
    assert set(refused.value.errors) == {"link"}
    assert "https://" in refused.value.errors["link"]
    assert _stored(engine) == []


@pytest.mark.parametrize("link", ["https://wiki.example/p?a=1&b=2#x", "http://intranet:8080/runbook_(v2)"])
def test_a_plain_url_is_kept_as_given(services: Services, engine: Engine, link: str) -> None:
    retro_id = _retro(engine)
    services.action_items.create(
        ActionItemDraft(
            team_id="T1",
            retro_id=retro_id,
            created_by="UFAC",
            text="Fix CI",
            owner_id="U1",
            due_text=None,
            link=link,
        )
    )
    assert [a.link for a in _stored(engine)] == [link]


def _owner_sees(link: str) -> str:
    fields: dict[str, Any] = {
        "id": 5,
        "team_id": "T1",
        "retro_id": 7,
        "text": "Fix CI",
        "owner_id": "U2",
        "priority": "high",
        "created_at": NOW,
        "link": link,
    }
    message = action_items.assigned_message(
        retro=make_retro(None), action_item=ActionItem(**fields), source=None
    )
    return mrkdwn_text(message.blocks)


@pytest.mark.parametrize("link", HOSTILE)
def test_a_stored_hostile_link_is_drawn_inert(link: str) -> None:
    """Links stored before validation existed are escaped where they are drawn."""
    text = _owner_sees(link)
    changes = text.split("*Changes:* ", 1)[1]
    # One labelled link, ours, whose target holds no markup that Slack would act on.
    assert changes.endswith("|the procedure>")
    target = changes[1 : -len("|the procedure>")]
    assert not set(target) & set("<>|"), target
    # Nothing live but the retro's channel and our link.
    assert sorted(LIVE.findall(text)) == sorted(["<#C1>", f"<{target}|the procedure>"])


def test_an_ampersand_in_a_link_is_escaped_as_slack_asks() -> None:
    assert "*Changes:* <https://wiki.example/p?a=1&amp;b=2|the procedure>" in _owner_sees(
        "https://wiki.example/p?a=1&b=2"
    )
