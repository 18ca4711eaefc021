"""The interop commands: `homesafe export damp-and-mould … > file.json` (with --validate),
`homesafe export tsm`, `homesafe work-orders import FILE.csv` (every bad line reported, nothing
written) and `homesafe import damp-and-mould FILE.json …` into an empty store."""

from __future__ import annotations

import json

import pytest

from homesafe.cli import main
from interop import data_model
from interop.models import ExternalReference
from repairs import repository as work_orders
from tests.integration.interop.conftest import open_store
from tests.interop_fleet import NOW, _registry

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(store, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", store.url)
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path}/telemetry.db")
    return store


def _export(capsys, *extra):
    code = main(["export", "damp-and-mould", "--from", "2025-10-01", "--to", "2026-03-31", *extra])
    out = capsys.readouterr()
    return code, out


@pytest.mark.usefixtures("cli")
def test_export_writes_a_document_that_validates(capsys):
    for component in ("investigation", "work_order"):
        code, out = _export(capsys, "--component", component, "--validate")
        assert code == 0, out.err
        document = json.loads(out.out)
        assert data_model.errors(component, document) == []
        assert document["homesafe"]["personal"] is False
    code, out = _export(capsys, "--component", "investigation", "--personal")
    assert "Tenant 1" in out.out
    code, out = _export(capsys, "--component", "tenant")
    assert code == 2
    code = main(
        [
            "export",
            "damp-and-mould",
            "--from",
            "2026-03-01",
            "--to",
            "2026-02-01",
            "--component",
            "work_order",
        ]
    )
    assert code == 2
    assert "`to` must be after `from`" in capsys.readouterr().err


@pytest.mark.usefixtures("cli")
def test_export_tsm_prints_the_csv(capsys):
    assert main(["export", "tsm", "--year", "2025"]) == 0
    assert "RP02 emergency" in capsys.readouterr().out
    assert main(["export", "tsm", "--year", "last"]) == 2


def test_work_orders_import_reports_every_bad_line_then_applies_a_good_file(cli, capsys, tmp_path):
    fleet = cli.fleet
    with cli.sessions.begin() as session:
        for name, value in (("booked", "DF-4"), ("raised_only", "DF-5")):
            session.add(
                ExternalReference(
                    entity_type="work_order",
                    entity_id=str(fleet.work_orders[name]),
                    allocated_by="Dampfix",
                    value=value,
                    created_at=NOW,
                    created_by="test",
                )
            )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "reference,status,at,method,reason,work_done\n"
        "DF-4,dispatched,2026-03-02T08:00:00Z,,,\n"
        "DF-9,dispatched,2026-03-02T08:00:00Z,,,\n"
        "DF-5,no_access,2026-03-02T09:00:00Z,,,\n"
        "DF-5,dispatched,not a time,,,\n"
        "DF-5,completed,2099-01-01T00:00:00Z,,,done\n",
        encoding="utf-8",
    )
    assert main(["work-orders", "import", str(bad), "--allocated-by", "Dampfix"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1] for line in err[:-1]] == ["3", "4", "5", "6"]
    assert any("DF-9" in line for line in err)
    assert any("method and the reason" in line for line in err)
    assert any("in the future" in line for line in err)
    with cli.sessions() as session:
        assert work_orders.get_work_order(session, fleet.work_orders["booked"]).status == "booked"
    good = tmp_path / "good.csv"
    good.write_text(
        "allocated_by,reference,status,at,work_done\n"
        "Dampfix,DF-4,dispatched,2026-03-02T08:00:00Z,\n"
        "Dampfix,DF-4,completed,2026-03-02T12:00:00Z,mould wash\n",
        encoding="utf-8",
    )
    assert main(["work-orders", "import", str(good)]) == 0
    assert "applied 2 update(s) to 1 work order(s)" in capsys.readouterr().out
    with cli.sessions() as session:
        assert (
            work_orders.get_work_order(session, fleet.work_orders["booked"]).status == "completed"
        )


@pytest.mark.usefixtures("cli")
def test_import_damp_and_mould_into_an_empty_store(capsys, tmp_path, monkeypatch):
    files = []
    for component in ("investigation", "work_order"):
        code, out = _export(capsys, "--component", component, "--personal")
        assert code == 0
        path = tmp_path / f"{component}.json"
        path.write_text(out.out, encoding="utf-8")
        files.append(str(path))
    empty_url = f"sqlite:///{tmp_path / 'empty.db'}"
    second, db = open_store(empty_url)
    with second.sessions.begin() as session:
        _registry(session)
    db.dispose()  # type: ignore[attr-defined]
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", empty_url)
    assert main(["import", "damp-and-mould", *files]) == 0
    assert "15 case(s), 7 work order(s)" in capsys.readouterr().out
    assert main(["import", "damp-and-mould", *files]) == 1  # no longer empty
    assert "the store already has cases" in capsys.readouterr().err


def test_audit_verify_checks_signed_checkpoints_with_the_key_from_the_setting(
    cli, capsys, monkeypatch
):
    """Found while typing the CLI: HOMESAFE_AUDIT_KEY reached the check as text, not bytes."""
    from compliance.audit import write_checkpoint

    with cli.sessions.begin() as session:
        write_checkpoint(session, day=NOW.date(), now=NOW, key=b"a long audit key")
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", "a long audit key")
    assert main(["audit", "verify"]) == 0
    assert "audit log intact" in capsys.readouterr().out
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", "another key")
    assert main(["audit", "verify"]) == 1
