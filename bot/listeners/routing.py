"""Handlers are module-level functions `handler(services, request) -> Answer`, registered on a `Routes`.

This module is the one place that talks to Bolt: it parses each payload into its typed request, acks,
carries out the answer, and maps domain errors — to the modal's inline errors (by field name, through the
modal's field -> block id map), to an ephemeral reply, or to a small notice modal. A `views.open` that
fails (an expired trigger id, Slack down) tells the person to try again instead of only being logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from slack_bolt import Ack, App

from bot.acks import acked
from bot.errors import DomainError, InvalidInput
from bot.gateway import SlackCallFailed
from bot.listeners.answers import Answer, OpenModal, RefreshModal, Reply, Respond, ShowModal
from bot.listeners.requests import Click, Command, HomeOpened, Posted, Submission
from bot.services import Services
from messages.common import notice_modal
from messages.text import open_failed_text
from storage.db import unit_of_work

log = logging.getLogger(__name__)

CommandHandler = Callable[[Services, Command], Answer]
ClickHandler = Callable[[Services, Click], Answer]
SubmissionHandler = Callable[[Services, Submission], Answer]

# How a click shows a problem: in a notice modal opened, pushed or redrawn in place (for clicks whose
# answer is a modal), or as a message (ephemeral through the response_url; a modal from the Home tab).
Shows = Literal["open", "push", "refresh", "message"]


@dataclass(frozen=True)
class CommandRoute:
    name: str
    handler: CommandHandler
    explain: Callable[[DomainError], str] | None = None  # the reply to a domain error; its message if None


@dataclass(frozen=True)
class ClickRoute:
    action_id: str | re.Pattern[str]
    handler: ClickHandler
    shows: Shows = "message"
    title: str = "Rearview"  # of the notice modal a problem is shown in


@dataclass(frozen=True)
class SubmissionRoute:
    callback_id: str
    handler: SubmissionHandler
    fields: Mapping[str, str]  # field name -> block id
    error_field: str  # where an error that names no field is shown


@dataclass
class Routes:
    """The handlers of one area (retros, collection, discussion, action items), like a blueprint."""

    commands: list[CommandRoute] = field(default_factory=list)
    clicks: list[ClickRoute] = field(default_factory=list)
    submissions: list[SubmissionRoute] = field(default_factory=list)
    home_opened: list[Callable[[Services, HomeOpened], None]] = field(default_factory=list)
    posted: list[Callable[[Services, Posted], None]] = field(default_factory=list)

    def command(
        self, name: str, *, explain: Callable[[DomainError], str] | None = None
    ) -> Callable[[CommandHandler], CommandHandler]:
        """`name` is the subcommand; "*" answers the unknown ones."""

        def add(handler: CommandHandler) -> CommandHandler:
            self.commands.append(CommandRoute(name, handler, explain))
            return handler

        return add

    def click(
        self, action_id: str | re.Pattern[str], *, shows: Shows = "message", title: str = "Rearview"
    ) -> Callable[[ClickHandler], ClickHandler]:
        def add(handler: ClickHandler) -> ClickHandler:
            self.clicks.append(ClickRoute(action_id, handler, shows, title))
            return handler

        return add

    def submission(
        self, callback_id: str, *, fields: Mapping[str, str], error_field: str
    ) -> Callable[[SubmissionHandler], SubmissionHandler]:
        if error_field not in fields:
            raise ValueError(f"{error_field!r} is not one of the modal's fields")

        def add(handler: SubmissionHandler) -> SubmissionHandler:
            self.submissions.append(SubmissionRoute(callback_id, handler, fields, error_field))
            return handler

        return add


def wire(app: App, services: Services, areas: Iterable[Routes]) -> None:
    areas = list(areas)
    commands = {route.name: route for area in areas for route in area.commands}

    @app.command("/retro")
    def retro_command(ack: Ack, command: dict[str, Any]) -> None:
        request = Command.parse(command)
        route = commands.get(request.subcommand) or commands["*"]
        answer_command(services, route, request, _saying_acked(ack))

    for area in areas:
        for click in area.clicks:
            app.action(click.action_id)(_click_listener(services, click))
        for submission in area.submissions:
            app.view(submission.callback_id)(_submission_listener(services, submission))

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        acked()  # Bolt acked events before running their listener
        request = HomeOpened.parse(body, event)
        for area in areas:
            for handler in area.home_opened:
                handler(services, request)

    @app.event("message")
    def message(event: dict[str, Any], body: dict[str, Any]) -> None:
        acked()  # Bolt acked events before running their listener
        request = Posted.parse(body, event)
        if request is None:
            return
        for area in areas:
            for handler in area.posted:
                handler(services, request)


def _saying_acked(ack: Ack) -> Callable[..., Any]:
    """`ack`, which then lets the request be answered at once (bot/acks.py)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        answered = ack(*args, **kwargs)
        acked()
        return answered

    return call


def _click_listener(services: Services, route: ClickRoute) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()  # a click's answer is never in its ack
        acked()
        answer_click(services, route, Click.parse(body, action))

    return listener


def _submission_listener(services: Services, route: SubmissionRoute) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        answer_submission(services, route, Submission.parse(body, view), _saying_acked(ack))

    return listener


def answer_command(
    services: Services, route: CommandRoute, request: Command, ack: Callable[..., Any]
) -> None:
    try:
        answer = route.handler(services, request)
    except DomainError as exc:
        ack(text=route.explain(exc) if route.explain else exc.message)
        return
    if isinstance(answer, Reply):
        ack(text=answer.text, blocks=answer.blocks)
        return
    ack()
    if isinstance(answer, OpenModal):
        if answer.bot_in is not None and not _bot_is_in(services, answer.bot_in):
            _tell(services, answer.refusal, **_whom(request))
            return
        _open(services, answer, trigger_id=request.trigger_id, **_whom(request))
    elif answer is not None:
        raise TypeError(f"a command cannot answer {answer!r}")


def _bot_is_in(services: Services, channel: str) -> bool:
    """After the ack, before a modal that is useless where the bot is not (a conversations.info call,
    well within the trigger id's 3 s). If Slack cannot say, the modal opens: the check only spares the
    person a form, and the launch still reports a channel it cannot post in."""
    try:
        return services.gateway.bot_is_member(channel=channel)
    except SlackCallFailed as exc:
        log.warning("conversations.info failed: %s", exc.error)
        return True


def answer_click(services: Services, route: ClickRoute, request: Click) -> None:
    try:
        answer = route.handler(services, request)
    except DomainError as exc:
        answer = _problem(route, request, exc.message)
    if answer is None:
        return
    if isinstance(answer, OpenModal):
        _open(services, answer, trigger_id=request.trigger_id, **_whom(request))
        return
    with unit_of_work(services.engine) as session:
        if isinstance(answer, RefreshModal) and request.view_id:
            services.outbox.update_view(
                session, team_id=request.team_id, view_id=request.view_id, view=answer.view
            )
        elif isinstance(answer, Respond) and request.response_url:
            services.outbox.respond(
                session,
                team_id=request.team_id,
                response_url=request.response_url,
                text=answer.text,
                blocks=answer.blocks,
                replace_original=answer.replace,
            )
        elif isinstance(answer, Respond) and not answer.replace:
            # From the Home tab (which the service republishes) only problems need saying.
            session.rollback()
            notice = OpenModal(notice_modal(title=route.title, text=answer.text))
            _open(services, notice, request.trigger_id, team_id=request.team_id, user_id=request.user_id)
            return
        session.commit()


def _problem(route: ClickRoute, request: Click, message: str) -> Answer:
    if route.shows == "message":
        return Respond(message, replace=False)
    notice = notice_modal(title=route.title, text=message)
    if route.shows == "refresh":
        return RefreshModal(notice)
    return OpenModal(notice, push=route.shows == "push")


def answer_submission(
    services: Services, route: SubmissionRoute, request: Submission, ack: Callable[..., Any]
) -> None:
    try:
        answer = route.handler(services, request)
    except InvalidInput as exc:
        default = route.fields[route.error_field]
        ack(response_action="errors", errors={route.fields.get(f, default): m for f, m in exc.errors.items()})
        return
    except DomainError as exc:
        ack(response_action="errors", errors={route.fields[route.error_field]: exc.plain})
        return
    if isinstance(answer, ShowModal):
        ack(response_action="update", view=answer.view)
    elif isinstance(answer, RefreshModal):
        # This modal closes and the one under it, still open, is redrawn.
        if request.stacked and request.root_view_id:
            with unit_of_work(services.engine) as session:
                services.outbox.update_view(
                    session, team_id=request.team_id, view_id=request.root_view_id, view=answer.view
                )
                session.commit()
        ack()
    elif answer is None:
        ack()
    else:
        raise TypeError(f"a submission cannot answer {answer!r}")


def _whom(request: Command | Click) -> dict[str, Any]:
    return {
        "team_id": request.team_id,
        "user_id": request.user_id,
        "response_url": request.response_url,
    }


def _open(
    services: Services,
    answer: OpenModal,
    trigger_id: str,
    *,
    team_id: str | None = None,
    user_id: str | None = None,
    response_url: str | None = None,
) -> None:
    """The Slack call a request thread makes (with `_bot_is_in` before `/retro new`'s modal): the trigger id
    dies 3 s after the click."""
    try:
        if answer.push:
            services.gateway.push_view(trigger_id=trigger_id, view=answer.view)
        else:
            services.gateway.open_view(trigger_id=trigger_id, view=answer.view)
    except SlackCallFailed as exc:
        log.warning("views.%s failed: %s", "push" if answer.push else "open", exc.error)
        if team_id is not None and user_id is not None:
            _tell(services, open_failed_text(error=exc.error), team_id, user_id, response_url)


def _tell(services: Services, text: str, team_id: str, user_id: str, response_url: str | None) -> None:
    """Say something to the person after the ack, by the outbox: an ephemeral through the request's
    response_url, or a DM when there is none (the Home tab)."""
    with unit_of_work(services.engine) as session:
        if response_url:
            services.outbox.respond(
                session, team_id=team_id, response_url=response_url, text=text, replace_original=False
            )
        else:
            services.outbox.tell(session, team_id=team_id, user=user_id, channel=None, text=text)
        session.commit()
