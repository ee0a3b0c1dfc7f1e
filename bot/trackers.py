"""The trackers a channel's action items become tickets in: GitHub Issues (PyGithub), Jira (the `jira`
package) and a generic outgoing webhook (JSON, HMAC-SHA256-signed). Plain HTTP clients, no database and no
Slack: bot/services/trackers.py decides when to call them.

Each client is idempotent by the action item's marker: `ensure` looks for a ticket carrying the marker
before it creates one, so a retry after a 5xx (the tracker may have created it), a timeout or a killed
worker finds the ticket instead of making a second. A webhook cannot be searched: it carries the marker as
its delivery id (`X-Rearview-Delivery`), for the receiver to drop a second delivery of the same item.

Errors are two kinds: `TrackerDown` (a connection refused, a timeout, a 5xx or a 429: try again later) and
`TrackerRefused` (wrong credentials, no such repository or project, a request it rejects: trying again will
not help). Their messages never carry a credential.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import requests

TIMEOUT_SECONDS = 10
KINDS = ("github", "jira", "webhook")
LABELS = {"github": "GitHub", "jira": "Jira", "webhook": "the webhook"}
SIGNATURE_HEADER = "X-Rearview-Signature"
TIMESTAMP_HEADER = "X-Rearview-Timestamp"
DELIVERY_HEADER = "X-Rearview-Delivery"


class TrackerError(Exception):
    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TrackerDown(TrackerError):
    """Not reachable or not answering properly now (connection refused, timeout, 5xx, 429)."""


class TrackerRefused(TrackerError):
    """It answered no: credentials, permissions, a missing repository or project, a rejected request."""


@dataclass(frozen=True)
class TicketSpec:
    """What a ticket says: built by the service from an action item (messages/trackers.py draws the body)."""

    marker: str  # unique per action item: "rearview:T1:42"
    title: str
    body: str  # Markdown, with the marker in it
    owner: str
    due: date | None
    priority: str
    report_url: str | None
    fields: dict[str, Any]  # everything above as plain JSON, for the webhook


@dataclass(frozen=True)
class Ticket:
    key: str  # "42", "OPS-7", or what the webhook's receiver answered
    url: str | None
    closed_at: datetime | None = None  # set when it is closed (done) in the tracker


class TrackerClient(Protocol):
    def check(self) -> None:
        """Raise TrackerDown or TrackerRefused unless the connection works."""

    def ensure(self, spec: TicketSpec) -> Ticket:
        """The ticket carrying `spec.marker`: found, or created."""

    def state(self, key: str) -> Ticket | None:
        """The ticket as it is now (None: the tracker cannot say, as a webhook cannot)."""


@dataclass(frozen=True)
class Credentials:
    kind: str
    url: str  # GitHub's API base ("" for api.github.com), Jira's server, the webhook's URL
    project: str  # GitHub "owner/name", Jira project key
    email: str
    secret: str  # token, API token, shared secret (decrypted: never log this object)

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r}, url={self.url!r}, project={self.project!r}, secret=•••)"


def client_for(credentials: Credentials, *, clock: Callable[[], datetime]) -> TrackerClient:
    if credentials.kind == "github":
        return GitHubTracker(credentials)
    if credentials.kind == "jira":
        return JiraTracker(credentials)
    if credentials.kind == "webhook":
        return WebhookTracker(credentials, clock=clock)
    raise TrackerRefused(f"unknown tracker {credentials.kind}")


def _by_status(status: int | None, what: str, retry_after: str | None = None) -> TrackerError:
    """The error an HTTP status means: 429 and 5xx are worth another try, the rest are not."""
    if status is None or status == 429 or status >= 500:
        wait: float | None = None
        if retry_after and retry_after.strip().isdigit():
            wait = float(retry_after)
        return TrackerDown(f"{what} answered {status or 'nothing'}", retry_after=wait)
    reasons = {401: "the credentials were refused", 403: "permission denied", 404: "not found"}
    return TrackerRefused(f"{what}: {reasons.get(status, f'refused ({status})')}")


# ---------------------------------------------------------------- GitHub Issues


class GitHubTracker:
    """GitHub Issues in one repository, through PyGithub (its own retries off: the outbox retries)."""

    SCAN = 100  # recent issues looked through for the marker (GitHub's search index lags behind creation)

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.repo_name = credentials.project

    def _github(self, *, lazy: bool) -> Any:
        """A lazy client makes no request until one is needed (a repository object costs none)."""
        from github import Auth, Github  # imported when a tracker is used, not at start-up
        from github.Consts import DEFAULT_BASE_URL

        return Github(
            auth=Auth.Token(self.credentials.secret),
            base_url=self.credentials.url.rstrip("/") or DEFAULT_BASE_URL,
            timeout=TIMEOUT_SECONDS,
            retry=None,
            lazy=lazy,
        )

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        from github import GithubException

        try:
            return call()
        except GithubException as exc:
            headers = exc.headers or {}
            raise _by_status(exc.status, f"GitHub ({what})", headers.get("retry-after")) from None
        except requests.RequestException as exc:
            raise TrackerDown(f"GitHub could not be reached ({type(exc).__name__})") from None

    def check(self) -> None:
        self._call("the repository", lambda: self._github(lazy=False).get_repo(self.repo_name).full_name)

    def ensure(self, spec: TicketSpec) -> Ticket:
        repo = self._github(lazy=True).get_repo(self.repo_name)

        def find() -> Ticket | None:
            issues = repo.get_issues(state="all", sort="created", direction="desc")
            for n, issue in enumerate(issues):
                if n >= self.SCAN:
                    return None
                if spec.marker in (issue.body or ""):
                    return Ticket(str(issue.number), issue.html_url, issue.closed_at)
            return None

        found: Ticket | None = self._call("looking for the ticket", find)
        if found is not None:
            return found
        issue = self._call("creating the ticket", lambda: repo.create_issue(title=spec.title, body=spec.body))
        return Ticket(str(issue.number), issue.html_url)

    def state(self, key: str) -> Ticket | None:
        repo = self._github(lazy=True).get_repo(self.repo_name)

        def read() -> Ticket:
            issue = repo.get_issue(int(key))  # lazy: the request is made by reading it, here
            if issue.state != "closed":
                return Ticket(key, issue.html_url)
            return Ticket(key, issue.html_url, issue.closed_at or datetime.now(UTC))

        ticket: Ticket = self._call("reading the ticket", read)
        return ticket


# ---------------------------------------------------------------- Jira


class JiraTracker:
    """Jira issues (type Task) in one project, through the `jira` package (its retries off)."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.server = credentials.url.rstrip("/")
        self.project = credentials.project
        self._jira: Any = None

    def _client(self) -> Any:
        if self._jira is None:
            from jira import JIRA

            self._jira = JIRA(
                server=self.server,
                basic_auth=(self.credentials.email, self.credentials.secret),
                options={"check_update": False},
                max_retries=0,
                timeout=TIMEOUT_SECONDS,
                get_server_info=True,  # Cloud or Server: which search endpoint it has
            )
        return self._jira

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        from jira import JIRAError

        try:
            return call()
        except JIRAError as exc:
            headers = getattr(getattr(exc, "response", None), "headers", None) or {}
            raise _by_status(exc.status_code, f"Jira ({what})", headers.get("Retry-After")) from None
        except requests.RequestException as exc:
            raise TrackerDown(f"Jira could not be reached ({type(exc).__name__})") from None

    def check(self) -> None:
        self._call("the project", lambda: self._client().project(self.project))

    def _label(self, marker: str) -> str:
        return marker.replace(":", "-")  # Jira labels take no spaces; the marker has none

    def ensure(self, spec: TicketSpec) -> Ticket:
        label = self._label(spec.marker)

        def find() -> Ticket | None:
            jql = f'project = "{self.project}" AND labels = "{label}"'
            found = self._client().search_issues(
                jql, maxResults=1, fields="status,resolutiondate", json_result=True
            )
            for issue in found.get("issues", []):
                return Ticket(issue["key"], f"{self.server}/browse/{issue['key']}")
            return None

        existing: Ticket | None = self._call("looking for the ticket", find)
        if existing is not None:
            return existing
        fields: dict[str, Any] = {
            "project": {"key": self.project},
            "issuetype": {"name": "Task"},
            "summary": spec.title,
            "description": spec.body,
            "labels": ["rearview", label],
        }
        if spec.due is not None:
            fields["duedate"] = spec.due.isoformat()
        issue = self._call(
            "creating the ticket", lambda: self._client().create_issue(fields=fields, prefetch=False)
        )
        return Ticket(issue.key, f"{self.server}/browse/{issue.key}")

    def state(self, key: str) -> Ticket | None:
        issue = self._call(
            "reading the ticket", lambda: self._client().issue(key, fields="status,resolutiondate")
        )
        category = issue.raw["fields"]["status"].get("statusCategory", {}).get("key")
        closed = None
        if category == "done":
            resolved = issue.raw["fields"].get("resolutiondate")
            closed = _jira_time(resolved) if resolved else datetime.now(UTC)
        return Ticket(key, f"{self.server}/browse/{key}", closed)


def _jira_time(text: str) -> datetime:
    """Jira's "2026-11-20T10:00:00.000+0000"."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


# ---------------------------------------------------------------- the generic webhook


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` HMAC-SHA256 of `v1:{timestamp}:{body}` under the shared secret (Slack's own scheme): a receiver
    recomputes it and refuses a timestamp more than five minutes off, so a captured request cannot be
    replayed later."""
    digest = hmac.new(secret.encode(), b"v1:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (used by the tests' receiver): a fresh timestamp and the right signature."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), headers.get(SIGNATURE_HEADER, ""))


class WebhookTracker:
    """POST a signed JSON body per action item. The receiver may answer `{"id": ..., "url": ...}` to give the
    ticket a link; it should drop a second delivery with the same `X-Rearview-Delivery`."""

    def __init__(self, credentials: Credentials, *, clock: Callable[[], datetime]) -> None:
        self.url = credentials.url
        self.secret = credentials.secret
        self.clock = clock

    def _send(self, payload: dict[str, Any], delivery: str) -> dict[str, Any]:
        body = json.dumps(payload, sort_keys=True).encode()
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Rearview",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            DELIVERY_HEADER: delivery,
        }
        try:
            response = requests.post(self.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise TrackerDown(f"the webhook could not be reached ({type(exc).__name__})") from None
        if response.status_code >= 300:
            raise _by_status(response.status_code, "the webhook", response.headers.get("Retry-After"))
        try:
            answer = response.json()
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    def check(self) -> None:
        self._send({"event": "ping", "sent_at": self.clock().isoformat()}, f"ping:{time.time_ns()}")

    def ensure(self, spec: TicketSpec) -> Ticket:
        answer = self._send({"event": "action_item.created", **spec.fields}, spec.marker)
        url = answer.get("url")
        return Ticket(str(answer.get("id") or spec.marker), url if isinstance(url, str) else None)

    def state(self, key: str) -> Ticket | None:
        return None  # one-way: its receiver reports nothing back
