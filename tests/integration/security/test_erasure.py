"""Erasure of special-category data when a tenancy ends (issue 12): once a home's tenancies have
all ended, its household record (ethnicity, disability, age, needs) is erased, with an audit
entry that names the fields but holds none of their values; the equity history keeps only
aggregate counts by group; homes with a running tenancy keep theirs; an admin can erase one
household on request. Run by the scheduler and by `homesafe registry erase-ended`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from compliance import audit
from compliance.models import AuditEntry
from homesafe.cli import main
from homesafe.erasure import erase_ended_households, erase_household
from registry import repository as registry
from registry.clock import utc_now
from registry.models import SpecialCategoryTally
from registry.service import import_registry
from tests.factories import homes_csv, households_csv, tenancies_csv
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path) -> Site:
    site = build_site(tmp_path)
    yesterday = (site.now.date() - timedelta(days=1)).isoformat()
    with site.context.sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_csv(homes=3, sensors_per_home=2),
            households_text=households_csv(["H0001", "H0002"], vulnerability="asthma"),
            tenancies_text=tenancies_csv(["H0001"], end_date=yesterday)
            + tenancies_csv(["H0002"]).split("\n", 1)[1],
        )
    return site


def test_a_household_whose_tenancy_ended_is_erased_with_an_audit_entry(site: Site) -> None:
    today = site.now.date()
    with site.context.sessions.begin() as session:
        erased = erase_ended_households(session, today=today, now=site.now)
    assert erased == ["H0001"]
    with site.context.sessions() as session:
        assert registry.get_household(session, "H0001") is None
        assert registry.get_household(session, "H0002") is not None  # still lives there
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "household.special_category_erased")
        ).one()
        assert entry.entity_id == "H0001"
        text = f"{entry.before} {entry.after}"
        for value in ("Black", "asthma", "35-44"):
            assert value not in text  # the log says what was erased, never what it was
        assert "ethnicity" in text
        assert audit.verify(session).ok
        tally = {
            (t.dimension, t.level): (t.households, t.cases)
            for t in session.scalars(select(SpecialCategoryTally))
        }
    assert tally[("ethnicity", "Black")] == (1, 1)  # H0001 had one case
    assert tally[("disability", "no")] == (1, 1)
    with site.context.sessions.begin() as session:
        assert erase_ended_households(session, today=today, now=site.now) == []  # done once


def test_a_tenancy_ending_today_or_later_keeps_the_household(site: Site) -> None:
    with site.context.sessions.begin() as session:
        erased = erase_ended_households(
            session, today=site.now.date() - timedelta(days=1), now=site.now
        )
    assert erased == []


def test_the_equity_analysis_still_runs_and_counts_the_erased_as_not_recorded(site: Site) -> None:
    with site.context.sessions.begin() as session:
        erase_ended_households(session, today=site.now.date(), now=site.now)
    answer = site.client("analyst", bearer=True).get(
        "/api/v1/equity/outcomes", params={"by": "ethnicity"}
    )
    assert answer.status_code == 200
    levels = {g["level"] for g in answer.json()["groups"]}
    assert "not recorded" in levels


def test_one_household_is_erased_on_request(site: Site) -> None:
    with site.context.sessions.begin() as session:
        assert erase_household(
            session, home_id="H0002", now=site.now, actor="admin", reason="request"
        )
        assert not erase_household(
            session, home_id="H0003", now=site.now, actor="admin", reason="x"
        )
    with site.context.sessions() as session:
        assert registry.get_household(session, "H0002") is None


def test_the_cli_erases_ended_tenancies(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path / 't.db'}")
    assert main(["db", "upgrade"]) == 0
    ended = (utc_now().date() - timedelta(days=3)).isoformat()
    (tmp_path / "homes.csv").write_text(homes_csv(homes=1, sensors_per_home=1))
    (tmp_path / "households.csv").write_text(households_csv(["H0001"]))
    (tmp_path / "tenancies.csv").write_text(tenancies_csv(["H0001"], end_date=ended))
    assert main(["registry", "import", "homes.csv", "households.csv", "tenancies.csv"]) == 0
    capsys.readouterr()
    assert main(["registry", "erase-ended", "--dry-run"]) == 0
    assert "would erase H0001" in capsys.readouterr().out
    assert main(["registry", "erase-ended"]) == 0
    assert "erased H0001" in capsys.readouterr().out
    assert main(["registry", "erase-household", "H0001"]) == 0
    assert "no household record" in capsys.readouterr().out
