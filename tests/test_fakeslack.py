"""The fake Slack behaves like Slack where it matters: limits, rate budgets, response_urls, event shapes.

The first part talks to the fake over real HTTP (slack_sdk's WebClient without retry handlers, so a 429
is seen as such, or urllib for response_urls); time moves through `fake.now`, never by sleeping. The
second part shows what the bot does with each event shape Slack sends.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.gateway import SlackCallFailed, WebApiGateway, make_web_client
from tests.conftest import Bot
from tests.fakeslack import BOT_TOKEN, BOT_USER_ID, RATE_LIMITS, FakeSlack, PostedMessage
from tests.integration.helpers import CHANNEL, invitation_to, items, open_survey, start_retro, team
from tests.slackclient import Reply, SlackClient

# ---------------------------------------------------------------- fixtures


@pytest.fixture
def api(fake_server: FakeSlack) -> Iterator[FakeSlack]:
    """The session's fake (conftest), reset for each test, with a small workspace."""
    fake_server.reset()
    fake_server.add_user("UBOB", "bob")
    fake_server.add_user("UCAROL", "carol")
    fake_server.add_channel("CTEAM", "team", ["UBOB", "UCAROL", BOT_USER_ID])
    fake_server.add_channel("COTHER", "other", ["UBOB", BOT_USER_ID])
    yield fake_server
    fake_server.reset()


@pytest.fixture
def web(api: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=api.api_url, retry_handlers=[])


class Clock:
    """The fake's time, moved by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def api_clock(api: FakeSlack) -> Clock:
    clock = Clock()
    api.now = clock
    return clock


def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def retry_after(error: SlackApiError) -> str | None:
    headers = {k.lower(): v for k, v in error.response.headers.items()}
    value = headers.get("retry-after")
    return value[0] if isinstance(value, list) else value


def post_url(url: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class StubBot:
    """Stands in for the bot: records what SlackClient sends and answers with `answer`."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.answer: dict[str, Any] | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stub.bodies.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
                payload = json.dumps(stub.answer).encode() if stub.answer is not None else b""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def module_stub_bot() -> Iterator[StubBot]:
    stub = StubBot()
    yield stub
    stub.close()


@pytest.fixture
def stub_bot(module_stub_bot: StubBot) -> StubBot:
    module_stub_bot.bodies.clear()
    module_stub_bot.answer = None
    return module_stub_bot


# ---------------------------------------------------------------- lifecycle and reset


def test_reset_forgets_everything_and_keeps_the_port(
    api: FakeSlack, web: WebClient, api_clock: Clock
) -> None:
    port = api.url
    trigger = api.new_trigger()
    opened = web.views_open(trigger_id=trigger, view=_modal("First"))
    web.views_publish(user_id="UBOB", view={"type": "home", "blocks": [{"type": "section", **_text()}]})
    web.chat_postMessage(channel="CTEAM", text="hello")
    web.reactions_add(channel="CTEAM", timestamp="1.2", name="wave")
    web.files_getUploadURLExternal(filename="a.md", length=1)
    url = api.new_response_url("/actions")
    for _ in range(6):
        post_url(url, {"text": "ok"})
    api.report_invalid("something bad")
    api.fail("users.info", error="user_not_found", times=5)
    api.rate_limited = True
    web.chat_postMessage(channel="COTHER", text="fills the window")
    api.latency = 0.5
    api.members_page_size = 1
    assert opened["ok"] and len(api.responses) == 5 and len(api.rejected_responses) == 1

    api.reset()

    assert api.url == port
    assert (api.users, api.channels, api.views, api.homes, api.uploads) == ({}, {}, {}, {}, {})
    assert (api.calls, api.messages, api.reactions, api.invalid_payloads) == ([], [], [], [])
    assert (api.responses, api.rejected_responses, api.failures, api.rate_limited_calls) == ([], [], [], [])
    assert (api.latency, api.rate_limited, api.members_page_size) == (0.0, False, 200)
    assert api.now is time.monotonic
    # Nothing recorded before the reset acts after it.
    assert slack_error(lambda: web.views_open(trigger_id=trigger, view=_modal("Again"))).response[
        "error"
    ] == ("invalid_trigger_id")
    api.add_user("UBOB", "bob")
    assert web.users_info(user="UBOB")["user"]["id"] == "UBOB"  # the injected failures are gone
    assert post_url(url, {"text": "ok"}) == (200, "ok")  # the url's uses are forgotten
    api.rate_limited = True
    api.add_channel("COTHER", "other", [BOT_USER_ID])
    assert web.chat_postMessage(channel="COTHER", text="room again")["ok"]  # and so are the rate windows


def test_start_is_idempotent_and_stop_ends_the_serving_thread() -> None:
    fake = FakeSlack()
    fake.start()
    url = fake.url
    thread = fake._thread
    fake.start()
    assert fake.url == url and fake._thread is thread
    assert WebClient(token=BOT_TOKEN, base_url=fake.api_url).auth_test()["ok"]
    fake.stop()
    assert thread is not None and not thread.is_alive()
    fake.stop()  # a second stop does nothing


# ---------------------------------------------------------------- latency


def test_latency_is_applied_outside_the_lock_so_calls_overlap(api: FakeSlack, web: WebClient) -> None:
    api.latency = 0.2
    results: list[bool] = []

    def call() -> None:
        results.append(bool(web.auth_test()["ok"]))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4
    # Inside the lock the calls would take their latency one at a time: never more than one in flight.
    assert api.max_in_flight >= 2


# ---------------------------------------------------------------- rate limits


def test_rate_limits_are_off_by_default(api: FakeSlack, web: WebClient) -> None:
    for _ in range(3):
        assert web.chat_postMessage(channel="CTEAM", text="quick")["ok"]
    assert api.rate_limited_calls == []


def test_a_tier_4_method_allows_100_calls_a_minute_then_answers_429_with_retry_after(
    api: FakeSlack, web: WebClient, api_clock: Clock
) -> None:
    assert RATE_LIMITS["users.info"] == 100
    api.rate_limited = True
    for _ in range(60):
        web.users_info(user="UBOB")
    api_clock.t += 20
    for _ in range(40):
        web.users_info(user="UBOB")
    refused = slack_error(lambda: web.users_info(user="UBOB"))
    assert refused.response.status_code == 429
    assert refused.response["error"] == "ratelimited"
    assert retry_after(refused) == "40"  # the first 60 calls leave the window 60 s after they were made
    api_clock.t += 39.5
    assert retry_after(slack_error(lambda: web.users_info(user="UBOB"))) == "1"  # rounded up, at least 1
    api_clock.t += 0.5
    assert web.users_info(user="UBOB")["ok"]
    assert len(api.calls_to("users.info")) == 103  # the refused calls are recorded too
    assert [c.method for c in api.rate_limited_calls] == ["users.info", "users.info"]
    # Budgets are per method: another method is not affected.
    assert web.conversations_members(channel="CTEAM")["ok"]


def test_chat_post_message_allows_one_message_per_second_per_channel(
    api: FakeSlack, web: WebClient, api_clock: Clock
) -> None:
    api.rate_limited = True
    first = web.chat_postMessage(channel="CTEAM", text="one")
    refused = slack_error(lambda: web.chat_postMessage(channel="CTEAM", text="two"))
    assert (refused.response.status_code, retry_after(refused)) == (429, "1")
    in_thread = slack_error(lambda: web.chat_postMessage(channel="CTEAM", text="r", thread_ts=first["ts"]))
    assert in_thread.response.status_code == 429  # thread replies count for their channel
    # Other channels, and each person's DM, are channels of their own.
    assert web.chat_postMessage(channel="COTHER", text="elsewhere")["ok"]
    assert web.chat_postMessage(channel="UBOB", text="dm bob")["ok"]
    assert web.chat_postMessage(channel="UCAROL", text="dm carol")["ok"]
    assert slack_error(lambda: web.chat_postMessage(channel="DUBOB", text="dm bob again")).response[
        "error"
    ] == ("ratelimited")
    assert [m.text for m in api.in_channel("CTEAM")] == ["one"]  # a 429 posts nothing
    api_clock.t += 1
    assert web.chat_postMessage(channel="CTEAM", text="two")["ok"]
    assert [m.text for m in api.in_channel("CTEAM")] == ["one", "two"]
    assert len(api.rate_limited_calls) == 3


def test_a_client_that_honours_retry_after_succeeds_without_real_waiting(
    api: FakeSlack, api_clock: Clock
) -> None:
    """What the bot's dispatcher relies on: its client has no retry handlers, so a 429 comes back at once with
    its Retry-After (nothing sleeps); a retry once the fake's clock has passed that time succeeds."""
    api.rate_limited = True
    gateway = WebApiGateway(make_web_client(token=BOT_TOKEN, base_url=api.api_url))
    started = time.monotonic()
    gateway.post_message(channel="CTEAM", text="one")
    with pytest.raises(SlackCallFailed) as refused:
        gateway.post_message(channel="CTEAM", text="two")
    assert (refused.value.error, refused.value.retry_after) == ("ratelimited", 1.0)
    api_clock.t += 0.5
    with pytest.raises(SlackCallFailed):  # too early: refused again
        gateway.post_message(channel="CTEAM", text="two")
    api_clock.t += 0.5
    gateway.post_message(channel="CTEAM", text="two")
    assert time.monotonic() - started < 1.0
    assert [m.text for m in api.in_channel("CTEAM")] == ["one", "two"]
    assert len(api.calls_to("chat.postMessage")) == 4  # each refusal came back to the caller, never retried
    assert len(api.rate_limited_calls) == 2


def test_busiest_window_counts_answered_calls_in_any_minute(
    api: FakeSlack, web: WebClient, api_clock: Clock
) -> None:
    api.rate_limited = True
    for _ in range(30):
        web.conversations_open(users="UBOB")
    api_clock.t += 50
    for _ in range(20):
        web.conversations_open(users="UBOB")
    assert slack_error(lambda: web.conversations_open(users="UBOB")).response.status_code == 429
    api_clock.t += 20  # the first 30 have left the window
    for _ in range(5):
        web.conversations_open(users="UBOB")
    assert api.busiest_window("conversations.open") == 50  # the refused call does not count
    assert api.busiest_window("conversations.open", period=30) == 30
    assert api.busiest_window("chat.postMessage") == 0


def test_message_ts_follow_the_epoch_clock_and_history_reads_from_oldest(
    api: FakeSlack, web: WebClient
) -> None:
    assert web.chat_postMessage(channel="CTEAM", text="undated")["ts"].startswith("1700000000.")
    epoch = [1_795_000_000.5]
    api.epoch = lambda: epoch[0]
    first = web.chat_postMessage(channel="CTEAM", text="first")["ts"]
    epoch[0] += 120
    second = web.chat_postMessage(channel="CTEAM", text="second")["ts"]
    assert first.startswith("1795000000.") and second.startswith("1795000120.")
    recent = web.conversations_history(channel="CTEAM", oldest="1795000060")["messages"]
    assert [m["ts"] for m in recent] == [second]


# ---------------------------------------------------------------- response_url


def test_a_response_url_works_five_times(api: FakeSlack, api_clock: Clock) -> None:
    url = api.new_response_url("/actions")
    other = api.new_response_url("/actions")
    assert url != other
    for n in range(5):
        assert post_url(url, {"text": f"answer {n}"}) == (200, "ok")
    assert post_url(url, {"text": "sixth"}) == (404, "used_url")
    assert post_url(other, {"text": "another url"}) == (200, "ok")
    assert [r.body["text"] for r in api.responses] == [*(f"answer {n}" for n in range(5)), "another url"]
    assert [(r.url, r.body["text"], r.error) for r in api.rejected_responses] == [
        (url.removeprefix(api.url), "sixth", "used_url")
    ]


def test_a_response_url_expires_after_30_minutes(api: FakeSlack, api_clock: Clock) -> None:
    url = api.new_response_url("/commands/T0TEAM")
    api_clock.t += 30 * 60
    assert post_url(url, {"text": "just in time"}) == (200, "ok")
    api_clock.t += 1
    assert post_url(url, {"text": "too late"}) == (404, "expired_url")
    assert [r.error for r in api.rejected_responses] == ["expired_url"]


def test_each_command_and_click_gets_its_own_response_url(api: FakeSlack, stub_bot: StubBot) -> None:
    slack = SlackClient(bot_url=stub_bot.url, fake=api)
    slack.command("UBOB", "CTEAM", "status")
    slack.command("UBOB", "CTEAM", "status")
    message = PostedMessage("CTEAM", "1.1", "hi", [_button("go")], None)
    slack.click("UBOB", message=message, action_id="go")
    slack.click("UBOB", message=message, action_id="go")
    commands = [parse_qs(b)["response_url"][0] for b in stub_bot.bodies[:2]]
    clicks = [json.loads(parse_qs(b)["payload"][0])["response_url"] for b in stub_bot.bodies[2:]]
    assert all(u.startswith(api.url + "/commands/T0TEAM/") for u in commands)
    assert all(u.startswith(api.url + "/actions/") for u in clicks)
    assert len(set(commands + clicks)) == 4


# ---------------------------------------------------------------- views


def test_views_update_with_a_stale_hash_is_a_conflict(api: FakeSlack, web: WebClient) -> None:
    opened = web.views_open(trigger_id=api.new_trigger(), view=_modal("First", external_id="ext-1"))["view"]
    updated = web.views_update(
        view_id=opened["id"], hash=opened["hash"], view=_modal("Second", external_id="ext-1")
    )["view"]
    assert updated["hash"] != opened["hash"]
    stale = slack_error(lambda: web.views_update(view_id=opened["id"], hash=opened["hash"], view=_modal("X")))
    assert stale.response["error"] == "hash_conflict"
    assert api.views[opened["id"]]["title"]["text"] == "Second"
    assert web.views_update(view_id=opened["id"], view=_modal("No hash, no check", external_id="ext-1"))["ok"]
    by_external = web.views_update(external_id="ext-1", view=_modal("By external id"))
    assert by_external["view"]["id"] == opened["id"]
    assert slack_error(lambda: web.views_update(external_id="nope", view=_modal("Y"))).response["error"] == (
        "not_found"
    )
    # An update replaces the view: what the new one leaves out is gone, as in Slack.
    web.views_update(view_id=opened["id"], view=_modal("Plain"))
    assert "external_id" not in api.views[opened["id"]]
    assert api.views[opened["id"]]["title"]["text"] == "Plain"


def test_the_modal_stack_holds_three_views(api: FakeSlack, web: WebClient) -> None:
    root = web.views_open(trigger_id=api.new_trigger(), view=_modal("One"))["view"]["id"]
    second = web.views_push(trigger_id=api.new_trigger(from_view=root), view=_modal("Two"))["view"]["id"]
    third = web.views_push(trigger_id=api.new_trigger(from_view=second), view=_modal("Three"))["view"]["id"]
    assert api.stack_of(third) == [root, second, third]
    fourth = slack_error(
        lambda: web.views_push(trigger_id=api.new_trigger(from_view=third), view=_modal("Four"))
    )
    assert fourth.response["error"] == "push_limit_reached"
    assert len(api.views) == 3


def test_errors_in_a_submission_answer_must_name_input_blocks(api: FakeSlack, stub_bot: StubBot) -> None:
    slack = SlackClient(bot_url=stub_bot.url, fake=api)
    view = _modal("Add", blocks=[_input("item_text"), {"type": "section", "block_id": "intro", **_text()}])
    view_id = _open(api, view)

    stub_bot.answer = {"response_action": "errors", "errors": {"item_text": "Write something"}}
    slack.submit("UBOB", view_id)
    assert api.invalid_payloads == []

    stub_bot.answer = {"response_action": "errors", "errors": {"intro": "not an input", "gone": "x"}}
    slack.submit("UBOB", view_id)
    assert len(api.invalid_payloads) == 1
    assert "['gone', 'intro']" in api.invalid_payloads[0]


def test_views_in_submission_answers_are_validated(api: FakeSlack, stub_bot: StubBot) -> None:
    slack = SlackClient(bot_url=stub_bot.url, fake=api)
    root = _open(api, _modal("One", blocks=[_input("a")]))
    stub_bot.answer = {"response_action": "update", "view": _modal("Fine")}
    slack.submit("UBOB", root)
    stub_bot.answer = {"response_action": "push", "view": _modal("Also fine")}
    slack.submit("UBOB", root)
    assert api.invalid_payloads == []

    stub_bot.answer = {"response_action": "update", "view": _modal("A title far longer than 24 characters")}
    slack.submit("UBOB", root)
    assert len(api.invalid_payloads) == 1 and "response_action update" in api.invalid_payloads[0]

    web = WebClient(token=BOT_TOKEN, base_url=api.api_url, retry_handlers=[])
    second = web.views_push(trigger_id=api.new_trigger(from_view=root), view=_modal("Two", [_input("a")]))
    third = web.views_push(
        trigger_id=api.new_trigger(from_view=second["view"]["id"]), view=_modal("Three", [_input("a")])
    )
    stub_bot.answer = {"response_action": "push", "view": _modal("Four")}
    slack.submit("UBOB", third["view"]["id"])
    assert len(api.invalid_payloads) == 2 and "push_limit_reached" in api.invalid_payloads[1]


# ---------------------------------------------------------------- ephemerals in DMs


def test_an_ephemeral_in_a_dm_reaches_only_that_person(api: FakeSlack, web: WebClient) -> None:
    assert web.chat_postEphemeral(channel="DUBOB", user="UBOB", text="just you")["ok"]
    assert web.chat_postEphemeral(channel="UBOB", user="UBOB", text="by user id")["ok"]
    refused = slack_error(lambda: web.chat_postEphemeral(channel="DUBOB", user="UCAROL", text="not yours"))
    assert refused.response["error"] == "user_not_in_channel"
    assert [(m.channel, m.text) for m in api.ephemerals_to("UBOB")] == [
        ("DUBOB", "just you"),
        ("DUBOB", "by user id"),
    ]
    assert api.ephemerals_to("UCAROL") == []


def test_channel_types_follow_the_channel(api: FakeSlack) -> None:
    api.add_channel("CSECRET", "secret", ["UBOB"], is_private=True)
    api.add_channel("GMPDM", "mpdm-bob--carol-1", ["UBOB", "UCAROL"], is_private=True, is_mpim=True)
    assert [api.channel_type(c) for c in ("CTEAM", "CSECRET", "GMPDM", "DUBOB")] == [
        "channel",
        "group",
        "mpim",
        "im",
    ]


# ---------------------------------------------------------------- what the bot does with each shape


def posts(bot: Bot) -> int:
    """Everything the bot made visible: messages, ephemerals, reactions, response_url answers."""
    return len(bot.fake.messages) + len(bot.fake.reactions) + len(bot.fake.responses)


def test_a_reply_also_sent_to_the_channel_is_collected_once(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    reply, ts = bot.slack.thread_broadcast("UBOB", CHANNEL, "- The deploy froze", thread_ts=kickoff.ts)
    assert reply.status == 200
    bot.slack.thread_broadcast(
        "UBOB", CHANNEL, "- The deploy froze", thread_ts=kickoff.ts, ts=ts
    )  # redelivery
    bot.settle()
    assert items(bot) == [("went_wrong", "The deploy froze", "UBOB", "thread")]
    assert bot.fake.reactions == [(CHANNEL, ts, "white_check_mark")]


def test_a_message_with_a_file_is_collected_by_its_text(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.file_share("UBOB", CHANNEL, "- The dashboard was red all night", thread_ts=kickoff.ts)
    bot.slack.file_share("UCAROL", "DUCAROL", "+ Rollback took 2 minutes")
    bot.settle()
    # The two events are handled concurrently, so either may be stored first.
    assert sorted(items(bot)) == [
        ("went_well", "Rollback took 2 minutes", "UCAROL", "dm"),
        ("went_wrong", "The dashboard was red all night", "UBOB", "thread"),
    ]
    before = posts(bot)
    bot.slack.file_share("UDAN", CHANNEL, "", thread_ts=kickoff.ts)  # a screenshot alone: discussion
    bot.settle()
    assert len(items(bot)) == 2 and posts(bot) == before
    bot.slack.file_share("UDAN", "DUDAN", "")  # in a DM the person is told nothing was read
    bot.settle()
    assert len(items(bot)) == 2
    assert bot.fake.dms_to("UDAN")[-1].text == "I didn't find an item in that message."


def test_the_bots_own_posts_coming_back_are_ignored(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.slack.message("UCAROL", "DUCAROL", "+ Pairing worked")
    bot.settle()
    confirmation = bot.fake.dms_to("UCAROL")[-1]
    assert "Added 1 item" in confirmation.text
    before = posts(bot)
    for message in [kickoff, confirmation, *bot.fake.dms_to("UBOB")]:
        assert bot.slack.bot_echo(message).status == 200
    bot.settle()
    assert items(bot) == [("went_well", "Pairing worked", "UCAROL", "dm")]
    assert posts(bot) == before


def test_edits_and_deletions_change_nothing_and_duplicate_nothing(bot: Bot) -> None:
    """The bot does not follow edits or deletions: the item keeps the text it was collected with."""
    team(bot)
    kickoff = start_retro(bot)
    _, ts = bot.slack.message("UBOB", CHANNEL, "- Flaky test", thread_ts=kickoff.ts)
    _, dm_ts = bot.slack.message("UCAROL", "DUCAROL", "+ Good docs")
    bot.settle()
    collected = items(bot)
    assert len(collected) == 2
    before = posts(bot)
    bot.slack.message_changed(
        "UBOB", CHANNEL, ts, "- Flaky test in checkout", previous_text="- Flaky test", thread_ts=kickoff.ts
    )
    bot.slack.message_changed("UCAROL", "DUCAROL", dm_ts, "+ Great docs", previous_text="+ Good docs")
    bot.slack.message_deleted("UBOB", CHANNEL, ts, previous_text="- Flaky test", thread_ts=kickoff.ts)
    bot.slack.message_deleted("UCAROL", "DUCAROL", dm_ts, previous_text="+ Good docs")
    bot.settle()
    assert items(bot) == collected
    assert posts(bot) == before


def test_group_dms_and_other_private_channels_are_ignored(bot: Bot) -> None:
    team(bot)
    kickoff = start_retro(bot)
    bot.fake.add_channel("GMPDM", "mpdm-bob--carol-1", ["UBOB", "UCAROL", BOT_USER_ID], is_mpim=True)
    bot.fake.add_channel("CPRIVATE", "secret", ["UBOB", BOT_USER_ID], is_private=True)
    before = posts(bot)
    replies: list[Reply] = []
    for channel in ("GMPDM", "CPRIVATE"):
        replies.append(bot.slack.message("UBOB", channel, "- Not for the retro")[0])
        replies.append(bot.slack.message("UBOB", channel, "- Nor this", thread_ts=kickoff.ts)[0])
    bot.settle()
    assert [r.status for r in replies] == [200] * 4
    assert items(bot) == []
    assert posts(bot) == before


# ---------------------------------------------------------------- helpers


def _text(text: str = "Some text") -> dict[str, Any]:
    return {"text": {"type": "mrkdwn", "text": text}}


def _input(block_id: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": "Label"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    }


def _button(action_id: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "buttons",
        "elements": [
            {
                "type": "button",
                "action_id": action_id,
                "text": {"type": "plain_text", "text": "Go"},
                "value": "1",
            }
        ],
    }


def _modal(
    title: str, blocks: list[dict[str, Any]] | None = None, *, external_id: str | None = None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "test_modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks if blocks is not None else [{"type": "section", **_text()}],
    }
    if any(b["type"] == "input" for b in view["blocks"]):
        view["submit"] = {"type": "plain_text", "text": "Save"}
    if external_id:
        view["external_id"] = external_id
    return view


def _open(fake: FakeSlack, view: dict[str, Any]) -> str:
    web = WebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[])
    return str(web.views_open(trigger_id=fake.new_trigger(), view=view)["view"]["id"])


def test_the_bots_answer_to_a_submission_is_what_the_person_then_sees(bot: Bot) -> None:
    team(bot)
    start_retro(bot)
    survey = open_survey(bot, "UBOB", invitation_to(bot.fake, "UBOB"))
    assert bot.fake.views[survey]["title"]["text"] != "Thank you!"
    assert bot.slack.submit("UBOB", survey, {"cat_went_well": "CI was fast"}).body.startswith("{")
    shown = bot.fake.views[survey]  # the bot answered response_action update: the form became the thanks
    assert shown["title"]["text"] == "Thank you!" and "submit" not in shown
    assert survey not in bot.fake.closed_views
    # A submission answered with an empty body closes the modal.
    assert bot.slack.command("UALICE", CHANNEL, "close")[0].body == ""
    bot.settle()
    close_dialog = list(bot.fake.views)[-1]
    assert bot.slack.submit("UALICE", close_dialog).body == ""
    assert close_dialog in bot.fake.closed_views
