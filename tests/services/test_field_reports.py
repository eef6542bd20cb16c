"""Field reports back: validation (nothing written on refusal), idempotence, three-way merge, CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
import shapely
from field_fixtures import data_of, make_report, saved_project, visit

from territory_desktop.cli import main
from territory_desktop.models import InvalidInputError
from territory_desktop.services.field_reports import import_report
from territory_desktop.services.packages import PackageOptions, export_rep_package
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage.project_file import package_key

START = date(2027, 3, 1)


@pytest.fixture
def setup(tmp_path):
    path = saved_project(tmp_path)
    project = open_project(path)
    opts = PackageOptions(key=package_key(path), start=START, weeks=1, time_limit=0.2)
    package = export_rep_package(project, "r1", tmp_path / "r1", opts)
    return path, data_of(package), tmp_path


def _write(folder, text, name="report.json"):
    out = folder / name
    out.write_text(text, encoding="utf-8")
    return out


def _file_bytes(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_visits_are_added_once(setup) -> None:
    path, data, folder = setup
    report = _write(folder, make_report(data, [visit("r1-a1", notes="met buyer"), visit("r1-a2", "no answer")], []))
    first = import_report(path, report)
    assert (first["visits_added"], first["visits_already_imported"]) == (2, 0)
    visits = open_project(path).visits
    mine = visits[visits["rep_id"] == "r1"]
    assert len(visits) == 4 and sorted(mine["account_id"]) == ["r1-a0", "r1-a1", "r1-a2"]  # r1-a0: history
    row = mine[mine["account_id"] == "r1-a1"].iloc[0]
    assert (row["date"], row["minutes"], row["outcome"]) == ("2027-03-01", 40.0, "completed")
    assert row["note"] == "met buyer | Next step: send quote"
    before = _file_bytes(path)
    again = import_report(path, report)
    assert (again["visits_added"], again["visits_already_imported"]) == (0, 2)
    assert _file_bytes(path) == before  # the file is not even rewritten


def test_three_way_merge(setup) -> None:
    path, data, folder = setup
    # the desk changes r1-a1's address and r1-a2's contact after the export
    project = open_project(path)
    project.accounts["address"] = None
    project.accounts["contact_name"] = None
    acc = project.accounts.set_index("account_id")
    project.accounts.loc[acc.index.get_loc("r1-a1"), "address"] = "1 Desk Street"
    project.accounts.loc[acc.index.get_loc("r1-a2"), "contact_name"] = "Dana Desk"
    project.mark_dirty("accounts")
    save_project(project)
    lon, lat = data["base"]["r1-a0"]["location"]
    corrections = [
        {"account_id": "r1-a0", "field": "location", "value": [lon + 0.1, lat]},  # desk unchanged: applies
        {"account_id": "r1-a1", "field": "address", "value": "1 Desk Street"},       # same change both sides
        {"account_id": "r1-a2", "field": "contact_name", "value": "Fred Field"},     # conflict
        {"account_id": "r1-a3", "field": "contact_phone", "value": "555-0100"},      # new field, applies
    ]
    report = _write(folder, make_report(data, [], corrections))
    result = import_report(path, report)
    assert result["corrections_applied"] == 2 and result["corrections_unchanged"] == 1
    assert [(c["account_id"], c["field_value"], c["desk_value"], c["base"]) for c in result["conflicts"]] == [
        ("r1-a2", "Fred Field", "Dana Desk", "")]
    acc = open_project(path).accounts.set_index("account_id")
    assert acc.loc["r1-a0"].geometry.equals_exact(shapely.Point(lon + 0.1, lat), 1e-7)
    assert acc.loc["r1-a0", "unit_id"] == "u1"  # moved 0.1 degree east: into the next unit
    assert acc.loc["r1-a2", "contact_name"] == "Dana Desk"  # the conflict was not applied
    assert acc.loc["r1-a3", "contact_phone"] == "555-0100"
    desk = import_report(path, report, resolve="desk")
    assert desk["corrections_applied"] == 0 and open_project(path).accounts.set_index(
        "account_id").loc["r1-a2", "contact_name"] == "Dana Desk"
    field = import_report(path, report, resolve="field")
    assert field["corrections_applied"] == 1
    assert open_project(path).accounts.set_index("account_id").loc["r1-a2", "contact_name"] == "Fred Field"


@pytest.mark.parametrize("case", ["truncated", "tampered_body", "tampered_identity", "other_base", "wrong_rep",
                                  "unknown_account", "other_project", "not_json", "bad_visit"])
def test_bad_reports_are_refused_and_nothing_written(setup, case, tmp_path_factory) -> None:
    path, data, folder = setup
    good = make_report(data, [visit("r1-a1")], [])
    envelope = json.loads(good)
    body = json.loads(envelope["body"])
    if case == "truncated":
        text = good[: len(good) // 2]
    elif case == "not_json":
        text = "hello"
    elif case == "tampered_body":
        envelope["body"] = envelope["body"].replace("completed", "cancelled")
        text = json.dumps(envelope)
    else:
        if case == "tampered_identity":
            body["package"]["rep_id"] = "r2"
            body["rep_id"] = "r2"
        elif case == "other_base":
            body["base"]["r1-a1"]["address"] = "elsewhere"
        elif case == "wrong_rep":
            body["rep_id"] = "r2"
        elif case == "unknown_account":
            body["visits"][0]["account_id"] = "r2-a1"  # another rep's account: not in this package
        elif case == "bad_visit":
            body["visits"][0]["date"] = "yesterday"
        elif case == "other_project":  # a package of another project (its own key) is not accepted here
            other = saved_project(tmp_path_factory.mktemp("other"))
            pkg = export_rep_package(open_project(other), "r1", other.parent / "r1",
                                     PackageOptions(key=package_key(other), start=START, time_limit=0.2))
            body = json.loads(json.loads(make_report(data_of(pkg), [visit("r1-a1")], []))["body"])
        text_body = json.dumps(body)
        text = json.dumps({**envelope, "body": text_body, "sha256": hashlib.sha256(text_body.encode()).hexdigest()})
    report = _write(folder, text)
    before = _file_bytes(path)
    with pytest.raises(InvalidInputError) as err:
        import_report(path, report)
    message = str(err.value)
    assert "nothing was written" in message
    expected = {"truncated": "malformed or truncated", "not_json": "malformed", "tampered_body": "checksum",
                "tampered_identity": "signature", "other_base": "another package", "wrong_rep": "rep 'r2'",
                "unknown_account": "unknown account 'r2-a1'", "bad_visit": "row 1, column 'date'",
                "other_project": "signature"}[case]
    assert expected in message
    assert _file_bytes(path) == before


def test_cli_lists_conflicts_and_json(setup, capsys) -> None:
    path, data, folder = setup
    project = open_project(path)
    project.accounts["contact_name"] = None
    project.accounts.loc[project.accounts["account_id"] == "r1-a2", "contact_name"] = "Dana Desk"
    project.mark_dirty("accounts")
    save_project(project)
    report = _write(folder, make_report(data, [visit("r1-a4")],
                                        [{"account_id": "r1-a2", "field": "contact_name", "value": "Fred"}]))
    assert main(["import-report", "--project", str(path), str(report)]) == 0
    out = capsys.readouterr().out
    assert "1 visits added" in out and "conflict r1-a2 contact_name" in out and "not applied" in out
    assert main(["import-report", "--project", str(path), str(report), "--json", "--resolve", "field"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["visits_added"] == 0 and result["corrections_applied"] == 1
    bad = _write(folder, "{", "bad.json")
    assert main(["import-report", "--project", str(path), str(bad)]) == 2
    assert "error: bad.json" in capsys.readouterr().err


def test_export_cli_errors_are_one_line(setup, capsys) -> None:
    path, _, folder = setup
    assert main(["export-package", "--project", str(path), "--rep", "nobody", "--out", str(folder / "x.zip"),
                 "--no-pdf"]) == 2
    assert "rep 'nobody' is not in the project" in capsys.readouterr().err
    assert main(["export-package", "--project", str(path), "--rep", "r1", "--out", str(folder / "x.zip"),
                 "--scenario", "nope", "--no-pdf"]) == 2
    assert "no scenario 'nope'" in capsys.readouterr().err
    assert not (folder / "x.zip").exists()
    assert main(["export-package", "--project", str(path), "--rep", "r2", "--out", str(folder / "r2.zip"),
                 "--start", "2027-03-01", "--time-limit", "0.2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["packages"][0]["bytes"] == (folder / "r2.zip").stat().st_size > 0
    import io
    import zipfile

    from pypdf import PdfReader

    with zipfile.ZipFile(folder / "r2.zip") as zf:
        text = PdfReader(io.BytesIO(zf.read("territory.pdf"))).pages[0].extract_text()
    flat = " ".join(text.split())
    assert "Zone2" in flat and "Sam Norrow" in flat
    assert not any(other in flat for other in ("Zone1", "Zone3", "Rita Quill", "Ada Axe"))
