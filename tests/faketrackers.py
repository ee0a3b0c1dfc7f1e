"""Fake trackers over real HTTP, for the real clients (PyGithub, jira, requests) to talk to: GitHub's issues
API, Jira's REST API and a webhook receiver that verifies the signature, each on 127.0.0.1:0 in a thread.

Faults are injected per request: `fail` is a list of statuses the next requests get (502, 429...), and
`create_then_fail` makes the next creation happen and then answer 502, as a tracker that did the work but
lost the answer."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from bot.trackers import DELIVERY_HEADER, verify


@dataclass
class FakeTracker:
    """What every fake shares: its requests, faults and base URL."""

    base: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    fail: list[int] = field(default_factory=list)
    create_then_fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        raise NotImplementedError

    def serve(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.requests.append((method, path))
            if self.fail:
                status = self.fail.pop(0)
                extra = {"Retry-After": "7"} if status == 429 else {}
                return status, {"message": "injected"}, extra
            status, answer = self.handle(method, path, query, headers, body)
            return status, answer, {}


@dataclass
class FakeGitHub(FakeTracker):
    token: str = "ghp_secret"
    repo: str = "acme/ops"
    issues: list[dict[str, Any]] = field(default_factory=list)

    def _issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        number = issue["number"]
        return {
            "id": 1000 + number,
            "number": number,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "closed_at": issue.get("closed_at"),
            "html_url": f"https://github.test/{self.repo}/issues/{number}",
            "url": f"{self.base}/repos/{self.repo}/issues/{number}",
        }

    def close(self, number: int, at: datetime) -> None:
        with self.lock:
            issue = self.issues[number - 1]
            issue["state"], issue["closed_at"] = "closed", at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if headers.get("authorization") not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {"message": "Bad credentials"}
        prefix = f"/repos/{self.repo}"
        if method == "GET" and path == prefix:
            return 200, {"id": 1, "full_name": self.repo, "name": self.repo.split("/")[1]}
        if method == "GET" and path == f"{prefix}/issues":
            return 200, [self._issue(i) for i in reversed(self.issues)]
        if method == "POST" and path == f"{prefix}/issues":
            sent = json.loads(body)
            issue = {"number": len(self.issues) + 1, "title": sent["title"], "body": sent.get("body") or ""}
            issue["state"] = "open"
            self.issues.append(issue)
            if self.create_then_fail:
                self.create_then_fail = False
                return 502, {"message": "Bad gateway"}
            return 201, self._issue(issue)
        if match := re.fullmatch(rf"{re.escape(prefix)}/issues/(\d+)", path):
            number = int(match.group(1))
            if method == "GET" and 0 < number <= len(self.issues):
                return 200, self._issue(self.issues[number - 1])
        return 404, {"message": "Not Found"}


@dataclass
class FakeJira(FakeTracker):
    email: str = "ops@acme.test"
    token: str = "jira-api-token"
    project: str = "OPS"
    issues: list[dict[str, Any]] = field(default_factory=list)

    def resolve(self, key: str, at: datetime) -> None:
        with self.lock:
            issue = next(i for i in self.issues if i["key"] == key)
            issue["done"] = True
            issue["resolutiondate"] = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    def _issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        category = "done" if issue.get("done") else "new"
        return {
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{self.base}/rest/api/2/issue/{issue['id']}",
            "fields": {
                **issue["fields"],
                "status": {
                    "name": "Done" if issue.get("done") else "To Do",
                    "statusCategory": {"key": category},
                },
                "resolutiondate": issue.get("resolutiondate"),
            },
        }

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {"errorMessages": ["Unauthorized"]}
        api = "/rest/api/2"
        if method == "GET" and path == f"{api}/serverInfo":
            return 200, {"versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "baseUrl": self.base}
        if method == "GET" and path == f"{api}/field":
            return 200, [{"id": "summary", "name": "Summary"}, {"id": "labels", "name": "Labels"}]
        if method == "GET" and path == f"{api}/project/{self.project}":
            return 200, {"id": "10000", "key": self.project, "name": "Operations"}
        if method == "GET" and path == f"{api}/search/jql":
            jql = query.get("jql", [""])[0]
            label = re.search(r'labels = "([^"]+)"', jql)
            found = [
                self._issue(i)
                for i in self.issues
                if label and label.group(1) in i["fields"].get("labels", [])
            ]
            return 200, {"issues": found, "isLast": True}
        if method == "POST" and path == f"{api}/issue":
            sent = json.loads(body)["fields"]
            if sent.get("project", {}).get("key") != self.project:
                return 400, {"errors": {"project": "project is required"}}
            number = len(self.issues) + 1
            issue = {"id": str(10000 + number), "key": f"{self.project}-{number}", "fields": sent}
            self.issues.append(issue)
            if self.create_then_fail:
                self.create_then_fail = False
                return 502, {"errorMessages": ["Bad gateway"]}
            return 201, {
                "id": issue["id"],
                "key": issue["key"],
                "self": f"{self.base}{api}/issue/{issue['id']}",
            }
        if method == "GET" and path.startswith(f"{api}/issue/"):
            key = path.rsplit("/", 1)[1]
            for issue in self.issues:
                if key in (issue["key"], issue["id"]):
                    return 200, self._issue(issue)
        return 404, {"errorMessages": ["Not found"]}


@dataclass
class FakeWebhook(FakeTracker):
    """A receiver that refuses a request whose signature or timestamp is wrong, and keeps one ticket per
    delivery id."""

    secret: str = "whsec-shared"
    now: Callable[[], float] = lambda: 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        canonical = {
            "X-Rearview-Timestamp": headers.get("x-rearview-timestamp", ""),
            "X-Rearview-Signature": headers.get("x-rearview-signature", ""),
        }
        if method != "POST" or path != "/hook" or not verify(self.secret, canonical, body, now=self.now()):
            self.refused += 1
            return 401, {"error": "bad signature"}
        payload = json.loads(body)
        delivery = headers.get(DELIVERY_HEADER.lower(), "")
        if payload.get("event") == "ping":
            return 200, {"ok": True}
        for n, seen in enumerate(self.received, start=1):
            if seen["delivery"] == delivery:
                return 200, {"id": f"WH-{n}", "url": f"https://tickets.test/WH-{n}"}
        self.received.append({"delivery": delivery, "payload": payload, "headers": canonical, "body": body})
        n = len(self.received)
        return 200, {"id": f"WH-{n}", "url": f"https://tickets.test/WH-{n}"}


F = TypeVar("F", bound=FakeTracker)


@contextmanager
def serving(fake: F) -> Iterator[F]:
    """Serve `fake` on a free port until the block ends; `fake.base` is its URL."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer, extra = fake.serve(self.command, parts.path, parse_qs(parts.query), headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
