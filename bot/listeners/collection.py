"""Collecting answers: surveys, items, thread replies and DMs, deadlines: `/retro mine|remind|extend`, the
survey and item buttons and modals, the pickers, and the Home tab."""

from __future__ import annotations

import re
from typing import Any

from bot.domain import FORMATS, MAX_CUSTOM_QUESTIONS, ItemSource
from bot.listeners.answers import Answer, OpenModal, RefreshModal, Reply, Respond, ShowModal
from bot.listeners.requests import Click, Command, HomeOpened, Posted, Submission
from bot.listeners.routing import Routes
from bot.services import Services
from bot.services.surveys import SurveyAnswers
from messages import common, deadlines, items, kickoff, kudos, replies, survey

routes = Routes()


@routes.command("mine")
def mine(services: Services, request: Command) -> Answer:
    retro = services.items.current_retro(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return OpenModal(_my_items(services, retro.id, request.team_id, request.user_id))


@routes.command("remind")
def remind(services: Services, request: Command) -> Answer:
    reminding = services.deadlines.remind_now(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return Reply(deadlines.reminding_text(queued=reminding.queued, pending=reminding.pending))


_PERSON = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_GROUP = re.compile(r"<!(?:subteam\^|channel|here|everyone)[^>]*>")


@routes.command("invite")
def invite(services: Services, request: Command) -> Answer:
    """`/retro invite @a @b …`: the mentions Slack marked up (a typed `<@U…>` arrives escaped: not one)."""
    if _GROUP.search(request.marked_args):
        return Reply(kickoff.INVITE_NO_GROUPS)
    people = _PERSON.findall(request.marked_args)
    if not people:
        return Reply(kickoff.INVITE_USAGE)
    services.retros.request_invite(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id, invitees=people
    )
    return None  # the summary follows as an ephemeral, once the people are looked up and invited


@routes.command("extend")
def extend(services: Services, request: Command) -> Answer:
    retro = services.deadlines.check_extend(
        team_id=request.team_id, channel_id=request.channel_id, user_id=request.user_id
    )
    return OpenModal(deadlines.extend_modal(retro=retro, now=services.clock()))


@routes.click(common.OPEN_SURVEY_ACTION, shows="open", title="Retro survey")
def open_survey(services: Services, request: Click) -> Answer:
    saved = services.surveys.saved(
        team_id=request.team_id, retro_id=request.int_value(), user_id=request.user_id
    )
    if not saved.accepting:
        return OpenModal(items.closed_notice(retro=saved.retro))
    return OpenModal(
        survey.survey_modal(
            retro=saved.retro,
            answers=saved.answers,
            smoothness=saved.smoothness,
            surprise=saved.surprise,
            custom=saved.custom,
            anonymous=saved.anonymous,
            kudos_to=saved.kudos_to,
            kudos_text=saved.kudos_text,
        )
    )


@routes.click(common.ADD_ITEM_ACTION, shows="open", title="Add an item")
def open_add_item(services: Services, request: Click) -> Answer:
    retro = services.items.for_adding(
        team_id=request.team_id, retro_id=request.int_value(), user_id=request.user_id
    )
    if not services.items.accepting(retro):
        return OpenModal(items.closed_notice(retro=retro))
    return OpenModal(items.item_modal(retro=retro))


@routes.click(common.MY_ITEMS_ACTION, shows="open", title="My items")
def open_my_items(services: Services, request: Click) -> Answer:
    return OpenModal(_my_items(services, request.int_value(), request.team_id, request.user_id))


@routes.click(items.ITEM_EDIT_ACTION, shows="push", title="My items")
def edit_item(services: Services, request: Click) -> Answer:
    retro, item = services.items.get_own(
        team_id=request.team_id, item_id=request.int_value(), user_id=request.user_id
    )
    if not services.items.accepting(retro):
        return OpenModal(items.closed_notice(retro=retro), push=True)
    return OpenModal(items.item_modal(retro=retro, item=item), push=True)


@routes.click(items.ITEM_DELETE_ACTION, shows="refresh", title="My items")
def delete_item(services: Services, request: Click) -> Answer:
    retro = services.items.delete(
        team_id=request.team_id, item_id=request.int_value(), user_id=request.user_id
    )
    return RefreshModal(_my_items(services, retro.id, request.team_id, request.user_id))


def _my_items(services: Services, retro_id: int, team_id: str, user_id: str) -> dict[str, Any]:
    retro, owned = services.items.mine(team_id=team_id, retro_id=retro_id, user_id=user_id)
    return items.my_items_modal(retro=retro, items=owned, editable=services.items.accepting(retro))


@routes.click(re.compile(f"^{replies.PICK_CATEGORY_ACTION}:"))
def pick_category(services: Services, request: Click) -> Answer:
    picked = services.replies.pick_category(
        team_id=request.team_id, user_id=request.user_id, value=request.value
    )
    return Respond(
        replies.added_to_category_text(retro=picked.retro, category_label=picked.category.label), replace=True
    )


@routes.click(re.compile(f"^{replies.PICK_RETRO_ACTION}:"))
def pick_retro(services: Services, request: Click) -> Answer:
    services.replies.pick_retro(
        team_id=request.team_id,
        user_id=request.user_id,
        channel_id=request.channel_id or "",
        value=request.value,
        response_url=request.response_url,
    )
    return None


@routes.submission(survey.SURVEY_CALLBACK, fields=survey.FIELDS, error_field=survey.ERROR_FIELD)
def survey_submitted(services: Services, request: Submission) -> Answer:
    state = request.state
    categories = {c.key for fmt in FORMATS.values() for c in fmt.categories}
    answers = SurveyAnswers(
        items={key: state.text(survey.survey_block_id(key)) for key in categories},
        smoothness=_rating(state.selected(survey.SURVEY_SMOOTHNESS_BLOCK)),
        surprise=state.text(survey.SURVEY_SURPRISE_BLOCK),
        custom=[state.text(survey.custom_block_id(n)) for n in range(MAX_CUSTOM_QUESTIONS)],
        anonymous=common.ANONYMOUS_VALUE in state.checked(common.ANONYMOUS_BLOCK),
        kudos_to=state.user(kudos.KUDOS_USER_BLOCK),
        kudos_text=state.text(kudos.KUDOS_TEXT_BLOCK),
    )
    saved = services.surveys.submit(
        team_id=request.team_id,
        retro_id=request.meta_int("retro_id"),
        user_id=request.user_id,
        answers=answers,
    )
    return ShowModal(
        survey.survey_thanks_modal(
            retro=saved.retro,
            item_count=saved.item_count,
            smoothness=saved.smoothness,
            anonymous=saved.anonymous,
        )
    )


def _rating(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@routes.submission(items.ITEM_CALLBACK, fields=items.FIELDS, error_field="text")
def item_submitted(services: Services, request: Submission) -> Answer:
    category = request.state.selected(items.ITEM_CATEGORY_BLOCK) or ""
    text = request.state.text(items.ITEM_TEXT_BLOCK) or ""
    if request.metadata.get("item_id") is None:
        wants_anonymous = common.ANONYMOUS_VALUE in request.state.checked(common.ANONYMOUS_BLOCK)
        added = services.items.add(
            team_id=request.team_id,
            retro_id=request.meta_int("retro_id"),
            user_id=request.user_id,
            entries=[(category, text)],
            wants_anonymous=wants_anonymous,
            source=ItemSource.MODAL,
            view_id=request.view_id,
        )
        return ShowModal(
            items.item_added_modal(
                retro=added.retro,
                category_label=FORMATS[added.retro.format].category(category).label,
                anonymous=added.anonymous,
            )
        )
    retro = services.items.edit(
        team_id=request.team_id,
        item_id=request.meta_int("item_id"),
        user_id=request.user_id,
        category=category,
        text=text,
    )
    # The edit view closes and returns to the list under it, which is redrawn.
    if not request.stacked:
        return None
    return RefreshModal(_my_items(services, retro.id, request.team_id, request.user_id))


@routes.submission(deadlines.EXTEND_CALLBACK, fields=deadlines.FIELDS, error_field="deadline")
def extend_submitted(services: Services, request: Submission) -> Answer:
    services.deadlines.extend(
        team_id=request.team_id,
        retro_id=request.meta_int("retro_id"),
        user_id=request.user_id,
        deadline=request.state.moment(deadlines.EXTEND_DEADLINE_BLOCK),
    )
    return None


def home_opened(services: Services, request: HomeOpened) -> None:
    if request.tab == "home":
        services.home.publish(team_id=request.team_id, user_id=request.user_id)


def posted(services: Services, request: Posted) -> None:
    """A DM to the bot, or a reply in a retro's kickoff thread, is an item."""
    if request.in_dm:
        if _first(services, request):
            services.replies.direct_message(
                team_id=request.team_id,
                channel_id=request.channel_id,
                user_id=request.user_id,
                text=request.text,
            )
        return
    if not request.is_reply or request.thread_ts is None:
        return
    retro = services.replies.is_retro_thread(
        team_id=request.team_id, channel_id=request.channel_id, thread_ts=request.thread_ts
    )
    if retro is not None and _first(services, request):
        services.replies.thread_reply(retro=retro, user_id=request.user_id, ts=request.ts, text=request.text)


routes.home_opened.append(home_opened)
routes.posted.append(posted)


def _first(services: Services, request: Posted) -> bool:
    """Slack retries events and can deliver one message twice: act on the first delivery only."""
    keys = [f"message:{request.channel_id}:{request.ts}"]
    if request.event_id:
        keys.append(f"event:{request.event_id}")
    return services.items.first_delivery(team_id=request.team_id, raw_keys=keys)
