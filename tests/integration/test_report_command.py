"""The report people find in Slack is the one the CLI prints."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli import main
from storage.models import Retro
from tests.conftest import Bot
from tests.integration.helpers import CHANNEL, FACILITATOR, blocks_text, close_retro, start_retro, team

ROOT = Path(__file__).resolve().parents[2]
# Every variable Settings reads.
SETTINGS = set(re.findall(r'get\("([A-Z_]+)"\)', (ROOT / "bot" / "config.py").read_text()))


def rearview(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_uploaded_report_equals_the_cli_output(
    bot: Bot, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "- Rollback took 40 minutes\n+ Canary caught it")
    bot.settle()
    close_retro(bot)
    bot.settle()
    (uploaded,) = bot.fake.uploads.values()
    with Session(bot.engine) as session:
        retro_id = session.exec(select(Retro)).one().id

    database_url = bot.settings.database_url
    # Once as the whole process a user runs...
    printed = rearview("report", str(retro_id), database_url=database_url, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == uploaded.content.decode()

    # ...and the other cases through the same entry point in this process (a process start costs ~2 s).
    monkeypatch.chdir(tmp_path)
    for name in SETTINGS:  # the developer's own environment must not change the outcome
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["report", str(retro_id), "-o", "out.md"]) == 0
    assert (tmp_path / "out.md").read_text() == uploaded.content.decode()

    capsys.readouterr()
    assert main(["report", "999"]) == 2
    assert capsys.readouterr().err == "rearview: there is no retro 999; /retro history lists them\n"

    # /retro report uploads the same file again, by number or by words of the title.
    for which in ("", str(retro_id), "release 2"):
        reply, _ = bot.slack.command("UCAROL", CHANNEL, f"report {which}".strip())
        assert "Uploading the report of *Release 2.4*" in reply.text
        bot.settle()
        assert list(bot.fake.uploads.values())[-1].content == uploaded.content
    unknown, _ = bot.slack.command("UCAROL", CHANNEL, "report nothing like it")
    assert "No retro in this channel matches “nothing like it”" in unknown.text


def test_retro_export_sends_its_tables_by_dm_as_the_cli_writes_them(
    bot: Bot, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    team(bot)
    start_retro(bot)
    bot.slack.message("UBOB", "DUBOB", "- =Rollback took 40 minutes\n+ Canary caught it")
    bot.settle()
    close_retro(bot)
    bot.settle()
    with Session(bot.engine) as session:
        retro_id = session.exec(select(Retro)).one().id
    before = set(bot.fake.uploads)

    reply, _ = bot.slack.command("UCAROL", CHANNEL, "export")
    assert "Exporting *Release 2.4* as four CSV files" in reply.text
    bot.settle()
    sent = {u.filename: u for f, u in bot.fake.uploads.items() if f not in before}
    assert sorted(sent) == [
        f"retro-{retro_id}-{n}.csv" for n in ("action_items", "comments", "items", "votes")
    ]
    assert {u.channel for u in sent.values()} == {"DUCAROL"}  # to Carol alone, in her DM with the bot
    items = list(
        csv.DictReader(io.StringIO(sent[f"retro-{retro_id}-items.csv"].content.decode(), newline=""))
    )
    assert sorted((i["category"], i["text"]) for i in items) == [
        ("went_well", "Canary caught it"),
        ("went_wrong", "'=Rollback took 40 minutes"),  # a spreadsheet shows it, never runs it
    ]

    # The CLI writes the same files; JSON is one file of every table; bad input is one line and exit 2.
    monkeypatch.chdir(tmp_path)
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    assert main(["export", str(retro_id), "-o", str(tmp_path)]) == 0
    for name, upload in sent.items():
        assert (tmp_path / name).read_bytes() == upload.content
    assert main(["export", str(retro_id), "--format", "json"]) == 0
    exported = json.loads((tmp_path / f"retro-{retro_id}.json").read_text())
    assert sorted(i["text"] for i in exported["items"]) == ["=Rollback took 40 minutes", "Canary caught it"]
    capsys.readouterr()
    assert main(["export", "999"]) == 2
    assert main(["export", str(retro_id), "-o", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "rearview: there is no retro 999; /retro history lists them",
        f"rearview: {tmp_path / 'nowhere'} is not a folder; give an existing one with -o",
    ]

    before = set(bot.fake.uploads)
    reply, _ = bot.slack.command("UCAROL", CHANNEL, f"export {retro_id} json")
    assert "as one JSON file" in reply.text
    bot.settle()
    (json_upload,) = [u for f, u in bot.fake.uploads.items() if f not in before]
    assert json.loads(json_upload.content) == exported


def test_closing_can_share_a_stakeholder_summary(bot: Bot) -> None:

    team(bot)
    bot.fake.add_channel("CLEADS", "leads", ["UALICE", "UREARVIEW"])
    start_retro(bot)
    bot.slack.message(
        "UBOB", "DUBOB", "+ Canary caught the bug\n- Rollback took 40 minutes\n* Automate the rollback"
    )
    bot.settle()
    close_retro(bot, {"stakeholder_channel": "CLEADS"})
    (summary,) = bot.fake.in_channel("CLEADS")
    shown = blocks_text(summary)
    assert "Retro summary: Release 2.4" in shown
    assert "*Highlights*\n• Canary caught the bug" in shown
    assert "*Top improvements*\n• Rollback took 40 minutes\n• Automate the rollback" in shown
    with Session(bot.engine) as session:
        retro = session.exec(select(Retro)).one()
    assert retro.phase == "completed"
    assert retro.report_url is not None and retro.report_url in shown


def test_a_stakeholder_channel_without_the_bot_is_reported(bot: Bot) -> None:

    team(bot)
    bot.fake.add_channel("CSECRET", "secret", ["UALICE"], bot_is_member=False)
    start_retro(bot)
    close_retro(bot, {"stakeholder_channel": "CSECRET"})
    assert bot.fake.in_channel("CSECRET") == []
    # Told to the facilitator once, in the one message that lists what could not be delivered.
    (report,) = [m for m in bot.fake.ephemerals_to(FACILITATOR) if "couldn't deliver" in m.text]
    assert report.channel == CHANNEL
    assert "the summary for <#CSECRET>" in report.text and "`not_in_channel`" in report.text
    assert "/invite @Rearview" in report.text
    assert len(bot.fake.uploads) == 1  # the report itself still went out
