"""Comment threads: mentions of users and reps, resolved state, saved in the file, field notes from rep
packages in the accounts' threads, and the activity feed."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest
from field_fixtures import data_of, make_report, saved_project, visit

from territory_desktop.models import InvalidInputError
from territory_desktop.services import comments, people, review
from territory_desktop.services.audit import activity
from territory_desktop.services.field_reports import import_report
from territory_desktop.services.packages import PackageOptions, export_rep_package
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage.project_file import package_key


@pytest.fixture
def saved(grid_project, tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITORY_DESKTOP_USER", "alice")
    path = tmp_path / "p.gpkg"
    people.add_user(grid_project, "bob", "Bob Stone", "bob@example.com", "manager")
    save_project(grid_project, path)
    return path


def test_threads_mentions_and_resolution_are_saved(saved):
    p = open_project(saved)
    c1 = comments.add_comment(p, "territory", "W", "@BobStone is W too big? ask @r1 and @nobody, mail x@y.z")
    comments.add_comment(p, "territory", "W", "@bob agreed", author="bob")
    comments.add_comment(p, "account", "a3", "call back in May @Rita")
    assert json.loads(p.comments.set_index("comment_id").loc[c1, "mentions"]) == ["bob", "r1"]
    assert comments.open_entities(p, "territory") == ["W"]
    assert comments.resolve_thread(p, "territory", "W") == 2
    assert comments.open_entities(p, "territory") == [] and comments.open_entities(p, "account") == ["a3"]
    save_project(p)
    q = open_project(saved)
    w = comments.thread(q, "territory", "W")
    assert list(w["author"]) == ["alice", "bob"] and w["resolved"].astype(bool).all()
    assert set(w["resolved_by"]) == {"alice"}
    assert json.loads(comments.thread(q, "account", "a3")["mentions"].iloc[0]) == ["r1"]  # Rita is rep r1
    with sqlite3.connect(saved) as con:
        assert con.execute("SELECT count(*) FROM comments WHERE resolved = 1").fetchone()[0] == 2
        assert con.execute("SELECT user_id, name, role FROM project_users").fetchall() == [
            ("bob", "Bob Stone", "manager"), ("alice", "alice", None)]  # alice joined by commenting


def test_comment_errors_name_the_entity(saved):
    p = open_project(saved)
    with pytest.raises(InvalidInputError, match="no territory 'Z'"):
        comments.add_comment(p, "territory", "Z", "hello")
    with pytest.raises(InvalidInputError, match="account 'a1' is empty"):
        comments.add_comment(p, "account", "a1", "   ")
    with pytest.raises(InvalidInputError, match="'unit' is not one of"):
        comments.add_comment(p, "unit", "u1", "hi")
    with pytest.raises(InvalidInputError, match="a rep's id"):
        people.add_user(p, "r1")


def test_a_proposed_scenario_takes_comments_and_the_feed_lists_everything(saved):
    p = open_project(saved)
    p.plan.assign_many({"u0": "E"})
    p.mark_dirty("plans")
    save_project(p)
    review.transition(p, "base", "propose")
    comments.add_comment(p, "scenario", "base", "looks good")
    save_project(p)
    feed = activity(open_project(saved))
    assert list(feed["kind"]) == ["comment", "review", "edit"]  # newest first
    assert feed["text"].tolist()[1:] == ["scenario base proposed", "unit u0: W -> E"]
    assert set(feed["user"]) == {"alice"}


def test_field_notes_of_a_rep_package_join_the_account_threads(tmp_path):
    path = saved_project(tmp_path)
    project = open_project(path)
    opts = PackageOptions(key=package_key(path), start=date(2027, 3, 1), weeks=1, time_limit=0.2)
    data = data_of(export_rep_package(project, "r1", tmp_path / "r1", opts))
    report = tmp_path / "report.json"
    report.write_text(make_report(data, [visit("r1-a1", notes="met buyer"), visit("r1-a2", "no answer")], []),
                      encoding="utf-8")
    import_report(path, report)
    p = open_project(path)
    notes = comments.thread(p, "account", "r1-a1")
    rep_name = str(p.reps.set_index("rep_id").loc["r1", "name"])
    assert notes[["author", "text", "source"]].values.tolist() == [
        [rep_name, "met buyer | Next step: send quote", "field"]]
    assert len(comments.thread(p, "account", "r1-a2")) == 1  # "send quote" is its next step
