"""Release triggers: CI/CD and incident tools post a release outcome (`POST /api/releases`, bot/api.py) with a
bearer token scoped to one workspace and channel. The channel's rules (set in `/retro schedule`) decide
whether it makes a retro plan, and when: the retro window after the deploy, or at once after a rollback or
an incident. Idempotent by version: the same release posted again updates the plan of a retro not started.

Tokens: `rearview token create|list|revoke` (bot/cli.py). Only a token's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
from bot.domain import PlanStatus
from bot.services.action_items import is_plain_url
from bot.services.plans import PlanService, plan_title, settings_of
from bot.services.timers import Later, Timers
from storage import plans as plan_queries
from storage.db import unit_of_work
from storage.models import ApiToken, RetroPlan, RetroSchedule

TOKEN_PREFIX = "rv_"  # noqa: S105 - a prefix that names the token kind, not a secret
MAX_BODY = 64 * 1024
RATE_LIMIT = 30  # posts per token per minute
RATE_WINDOW = 60.0
DEFAULT_WINDOW_DAYS = 7
URGENT_LEAD_HOURS = 1  # after a rollback or an incident: the plan DM at once, the retro an hour later
LIST_FIELDS = ("incidents", "rollbacks", "hotfixes")
FIELDS = ("version", "deployed_at", "scope", *LIST_FIELDS, "links", "metrics")
MAX_VERSION = 100
MAX_TEXT = 2000
MAX_ENTRIES = 50
MAX_LINKS = 20
MAX_METRICS = 30
MAX_AGE_DAYS = 365
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+\-~:/@ ]*")  # 2.4.0, v3.0.0-rc.1+build.7, 2026.11.20
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


# ---------------------------------------------------------------- tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, *, team_id: str, channel_id: str, name: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new token: the stored row and the token itself, shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        team_id=team_id,
        channel_id=channel_id,
        name=name,
        token_hash=token_hash(token),
        hint=token[-4:],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, token


# ---------------------------------------------------------------- the release, validated


@dataclass(frozen=True)
class Release:
    version: str
    deployed_at: datetime
    scope: str | None = None
    incidents: tuple[str, ...] = ()
    rollbacks: tuple[str, ...] = ()
    hotfixes: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    metrics: dict[str, str | int | float] = field(default_factory=dict)

    @property
    def significant(self) -> bool:
        return bool(self.incidents or self.rollbacks or self.hotfixes)

    @property
    def urgent(self) -> bool:
        """A rollback or an incident: its retro is planned at once."""
        return bool(self.incidents or self.rollbacks)

    @property
    def major_or_minor(self) -> bool:
        """Semantic versions with patch 0 (2.4.0, v3.0.0-rc1); a version that is not semver counts."""
        match = _SEMVER.match(self.version)
        return match is None or int(match.group(3)) == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "deployed_at": self.deployed_at.isoformat(),
            "scope": self.scope,
            "incidents": list(self.incidents),
            "rollbacks": list(self.rollbacks),
            "hotfixes": list(self.hotfixes),
            "links": list(self.links),
            "metrics": dict(self.metrics),
        }


def _text(value: object, limit: int) -> str | None:
    """The text, stripped; None for what is not text, too long, or holds control characters or lone
    surrogates (JSON allows "\\udfff"; nothing can store or send it)."""
    if not isinstance(value, str) or _CONTROL.search(value) or len(value.strip()) > limit:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value.strip()


def parse_release(data: object, now: datetime) -> tuple[Release | None, dict[str, str]]:
    """The release in a posted JSON body, or the errors by field (what to fix, in one sentence each)."""
    if not isinstance(data, dict):
        return None, {"body": 'Send a JSON object, such as {"version": "2.4.0", "deployed_at": "…"}.'}
    errors: dict[str, str] = {}
    for unknown in sorted(set(data) - set(FIELDS))[:5]:
        errors[str(unknown)[:50]] = "Unknown field; the fields are " + ", ".join(FIELDS) + "."
    version = _text(data.get("version"), MAX_VERSION)
    if not version or not _VERSION.fullmatch(version):
        errors["version"] = (
            f"Required: the release's version, at most {MAX_VERSION} letters, digits and . _ + - ~ : / @ "
            "(such as 2.4.0 or v3.0.0-rc.1)."
        )
        version = None
    deployed_at: datetime | None = None
    raw = data.get("deployed_at")
    try:
        parsed = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        deployed_at = parsed.astimezone(UTC) if parsed is not None and parsed.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a time, or one that overflows in UTC (year 1 at +14:00)
        deployed_at = None
    if deployed_at is None:
        errors["deployed_at"] = (
            "Required: when it was deployed, in ISO 8601 with its offset (2026-11-20T14:05:00Z)."
        )
    elif deployed_at > now + timedelta(days=1):
        errors["deployed_at"] = "That is in the future; post a release once it is deployed."
        deployed_at = None
    elif deployed_at < now - timedelta(days=MAX_AGE_DAYS):
        errors["deployed_at"] = f"That is over {MAX_AGE_DAYS} days ago; post releases as they are deployed."
        deployed_at = None
    scope = data.get("scope")
    if scope is not None and _text(scope, MAX_TEXT) is None:
        errors["scope"] = f"Give the scope as text of at most {MAX_TEXT} characters."
    lists: dict[str, tuple[str, ...]] = {}
    for name in LIST_FIELDS:
        value = data.get(name)
        entries = [value] if isinstance(value, str) else value if isinstance(value, list) else None
        if value is None:
            lists[name] = ()
        elif (
            entries is None or len(entries) > MAX_ENTRIES or any(_text(e, MAX_TEXT) is None for e in entries)
        ):
            errors[name] = (
                f"Give a list of at most {MAX_ENTRIES} texts (or one text), each under {MAX_TEXT} characters."
            )
        else:
            lists[name] = tuple(e.strip() for e in entries if e.strip())
    links = data.get("links")
    if links is not None and (
        not isinstance(links, list)
        or len(links) > MAX_LINKS
        or not all(isinstance(link, str) and is_plain_url(link) for link in links)
    ):
        errors["links"] = f"Give a list of at most {MAX_LINKS} full links starting with https:// or http://."
    metrics = data.get("metrics")
    if metrics is not None and (
        not isinstance(metrics, dict)
        or len(metrics) > MAX_METRICS
        or not all(
            _text(k, 100)
            and ((isinstance(v, int | float) and not isinstance(v, bool)) or _text(v, 200) is not None)
            for k, v in metrics.items()
        )
    ):
        errors["metrics"] = f"Give an object of at most {MAX_METRICS} names to numbers or short texts."
    if errors or version is None or deployed_at is None:
        return None, errors
    return (
        Release(
            version=version,
            deployed_at=deployed_at,
            scope=_text(scope, MAX_TEXT) or None,
            links=tuple(links or ()),
            metrics=dict(metrics or {}),
            **lists,
        ),
        {},
    )


def included(schedule: RetroSchedule | None, release: Release) -> str | None:
    """Why the channel's rules leave this release out, or None when it makes a retro."""
    rule = schedule.release_rule if schedule is not None else "every"
    if rule == "significant" and not release.significant:
        return "this channel only runs retros for releases with an incident, a rollback or a hotfix"
    if rule == "major_minor" and not release.major_or_minor:
        return "this channel only runs retros for major and minor versions"
    return None


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


def _plan_body(plan: RetroPlan, what: str) -> dict[str, Any]:
    return {
        "result": what,
        "plan": {
            "id": plan.id,
            "title": plan_title(plan),
            "status": plan.status,
            "planned_start": plan.planned_start.isoformat(),
            "facilitator": plan.facilitator_id,
            "retro_id": plan.retro_id,
        },
    }


class RateLimiter:
    """At most `limit` calls per key in a sliding window of `window` seconds, in this process."""

    def __init__(self, limit: int, window: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.now = now
        self._calls: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_for(self, key: int) -> float:
        """0 when a call may go now (and it is counted), else the seconds until one may."""
        with self._lock:
            now = self.now()
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                return calls[0] + self.window - now
            calls.append(now)
            return 0.0


class ReleaseService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        timers: Timers,
        plans: PlanService,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.timers = timers
        self.plans = plans
        self.limiter = limiter or RateLimiter(RATE_LIMIT, RATE_WINDOW)

    def authenticate(self, authorization: str) -> ApiToken | Answer:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Answer(
                401, {"error": "Send the token as 'Authorization: Bearer rv_…' (rearview token create)."}
            )
        with unit_of_work(self.engine) as session:
            found = plan_queries.token_by_hash(session, token_hash=token_hash(token.strip()))
            if found is None or found.revoked_at is not None:
                return Answer(
                    401, {"error": "Unknown or revoked token; make one with `rearview token create`."}
                )
            found.last_used_at = self.clock()
            session.add(found)
            session.commit()
            session.refresh(found)
            return found

    def receive(self, token: ApiToken, data: object) -> Answer:
        wait = self.limiter.wait_for(token.id)
        if wait:
            seconds = max(1, round(wait + 0.5))
            return Answer(
                429,
                {"error": f"Over {RATE_LIMIT} posts a minute with this token; try again in {seconds} s."},
                (("Retry-After", str(seconds)),),
            )
        release, errors = parse_release(data, self.clock())
        if release is None:
            return Answer(422, {"errors": errors})
        try:
            return self._plan(token, release)
        except IntegrityError:
            # The same version posted at the same moment: the other post made the plan; this one updates it.
            return self._plan(token, release)

    def _plan(self, token: ApiToken, release: Release) -> Answer:
        now = self.clock()
        later = Later()
        with unit_of_work(self.engine) as session:
            schedule = plan_queries.schedule_for_channel(
                session, team_id=token.team_id, channel_id=token.channel_id
            )
            plan = plan_queries.plan_for_release(
                session,
                team_id=token.team_id,
                channel_id=token.channel_id,
                version=release.version,
                lock=True,
            )
            if plan is not None:
                if plan.status in (PlanStatus.STARTED, PlanStatus.SKIPPED):
                    return Answer(
                        200, _plan_body(plan, f"unchanged: this release's retro was already {plan.status}")
                    )
                if plan.release == release.as_json():
                    return Answer(200, _plan_body(plan, "unchanged: this release is planned already"))
                plan.release = release.as_json()
                plan.updated_at = now
                session.add(plan)
                self.plans.send(session, plan, key=f"plan:{plan.id}:release:{now.isoformat()}")
                session.commit()
                session.refresh(plan)
                return Answer(200, _plan_body(plan, "updated: the plan has the new release outcome"))
            why_not = included(schedule, release)
            if why_not is not None:
                return Answer(200, {"result": f"ignored: {why_not}", "plan": None})
            facilitation = self.plans.facilitation(
                session, team_id=token.team_id, channel_id=token.channel_id, advance=True
            )
            if facilitation is None:
                return Answer(
                    422,
                    {
                        "errors": {
                            "channel": "Nobody facilitates this channel's retros yet: run one with /retro new, "
                            "or set a facilitator with /retro schedule, then post again."
                        }
                    },
                )
            window = schedule.release_window_days if schedule is not None else DEFAULT_WINDOW_DAYS
            if release.urgent:
                start = now + timedelta(hours=URGENT_LEAD_HOURS)
            else:
                start = max(release.deployed_at + timedelta(days=window), now + timedelta(hours=1))
            last = self.plans.last_retro(session, team_id=token.team_id, channel_id=token.channel_id)
            plan = RetroPlan(
                team_id=token.team_id,
                channel_id=token.channel_id,
                schedule_id=schedule.id if schedule is not None else None,
                source="release",
                release_version=release.version,
                release=release.as_json(),
                settings=dict(schedule.settings) if schedule is not None else settings_of(last),
                facilitator_id=facilitation.facilitator,
                next_facilitator_id=facilitation.next_facilitator,
                planned_start=start,
                collection_days=schedule.collection_days if schedule is not None else 3,
                created_at=now,
                updated_at=now,
            )
            later = self.plans.propose(session, plan)
            session.commit()
            session.refresh(plan)
            answer = Answer(
                201,
                _plan_body(
                    plan, "planned" + (": at once, after a rollback or an incident" if release.urgent else "")
                ),
            )
        later.run(self.timers)
        return answer
