"""The `homesafe` command: settings from HOMESAFE_*, exit 2 with one line on bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from homesafe.cli import main
from tests.factories import homes_csv, households_csv, tenancies_csv

pytestmark = pytest.mark.integration


@pytest.fixture
def env(monkeypatch, tmp_path, case_db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", case_db_url)
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path}/telemetry.db")
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def test_unknown_subcommand_exits_2_with_one_line(capsys):
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "frobnicate" in err[0]


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HOMESAFE_TIMEZONE", "Mars/Olympus", "HOMESAFE_TIMEZONE"),
        ("HOMESAFE_TELEMETRY_URL", "redis://x", "HOMESAFE_TELEMETRY_URL"),
        ("HOMESAFE_MQTT_URL", "http://broker", "HOMESAFE_MQTT_URL"),
    ],
)
def test_a_bad_setting_exits_2_naming_the_variable(monkeypatch, capsys, variable, value, named):
    monkeypatch.setenv(variable, value)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert named in err[0]


def test_registry_import_reports_bad_rows_and_imports_good_files(env, capsys):
    (env / "homes.csv").write_text(homes_csv(homes=2, sensors_per_home=2))
    (env / "households.csv").write_text(households_csv(["H0001", "H0002"]))
    assert main(["registry", "import", "homes.csv", "households.csv"]) == 0
    assert (
        "imported 2 home(s), 2 gateway(s), 4 sensor(s), 2 household(s)" in capsys.readouterr().out
    )

    (env / "bad.csv").write_text(homes_csv(homes=1, archetype="igloo"))
    assert main(["registry", "import", "bad.csv"]) == 1
    err = capsys.readouterr().err
    assert "homes.csv:2: archetype 'igloo'" in err

    # Files are recognised by their header, in any order and under any name.
    (env / "people.csv").write_text(tenancies_csv(["H0001"]))
    (env / "more-homes.csv").write_text(homes_csv(homes=3, sensors_per_home=1))
    assert main(["registry", "import", "people.csv", "more-homes.csv"]) == 0
    assert "3 home(s)" in capsys.readouterr().out
    (env / "what.csv").write_text("a,b\n1,2\n")
    assert main(["registry", "import", "what.csv"]) == 1
    assert "header is not that of homes.csv" in capsys.readouterr().err


@pytest.mark.usefixtures("env")
def test_users_and_tokens(capsys):
    assert main(["users", "add", "alice", "--role", "officer"]) == 0
    assert main(["tokens", "create", "alice"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("hs_")
    assert len(token) > 40
    assert main(["users", "add", "alice", "--role", "officer"]) == 2
    assert main(["users", "add", "bob", "--role", "overlord"]) == 2
    assert main(["tokens", "create", "nobody"]) == 2


@pytest.mark.usefixtures("env")
def test_audit_verify_on_an_empty_log(capsys):
    # Without a key nothing is anchored: consistent, never "intact" (issue 12).
    assert main(["audit", "verify"]) == 3
    assert "consistent but not proven: 0 entries" in capsys.readouterr().out


def test_console_script_is_installed():
    done = subprocess.run(
        [sys.executable, "-m", "homesafe.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    for command in (
        "run",
        "ingest",
        "detect",
        "scheduler",
        "api",
        "simulate",
        "registry",
        "users",
        "tokens",
        "audit",
        "db",
    ):
        assert command in done.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["registry", "import", "homes.csv"],
        ["users", "add", "alice", "--role", "officer"],
        ["tokens", "create", "alice"],
        ["audit", "verify"],
    ],
)
def test_a_command_on_a_fresh_embedded_database_upgrades_it_first(
    monkeypatch, tmp_path, capsys, command
):
    """No SQLAlchemy traceback ("no such table: home"): the embedded SQLite file is brought up to date."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path}/telemetry.db")
    (tmp_path / "homes.csv").write_text(homes_csv(homes=1, sensors_per_home=1))
    code = main(command)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "no such table" not in captured.err
    # 2: `tokens create` for nobody, a usage error; 3: `audit verify` without a key proves nothing
    assert code in (0, 2, 3), captured.err
    assert main(["db", "upgrade"]) == 0
    assert "newest schema" in capsys.readouterr().out


def test_a_command_on_a_fresh_postgresql_database_says_run_db_upgrade(
    monkeypatch, tmp_path, capsys, make_postgres_url
):
    """The production database is migrated on purpose (the compose `migrate` service), never by a side door."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", make_postgres_url())
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path}/telemetry.db")
    (tmp_path / "homes.csv").write_text(homes_csv(homes=1, sensors_per_home=1))
    assert main(["registry", "import", "homes.csv"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "run `homesafe db upgrade`" in err[0]
    assert main(["db", "upgrade"]) == 0
    assert main(["registry", "import", "homes.csv"]) == 0


@pytest.mark.usefixtures("env")
def test_audit_verify_checks_checkpoints_signed_with_the_audit_key(monkeypatch, capsys):
    from homesafe import bootstrap
    from homesafe.scheduler import checkpoint_job
    from homesafe.settings import Settings

    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", "k" * 40)
    services = bootstrap.build(Settings())
    checkpoint_job(services)  # signs with the key's bytes, as the scheduler does every day
    services.close()
    assert main(["audit", "verify"]) == 0
    assert "1 checkpoint(s)" in capsys.readouterr().out
