"""The case page's repair forms, the equity CSV download and the "you said, we did" form: the role
allowed succeeds through the same services as the API, a viewer is refused, refusals carry reasons."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from api.pages.render import duration
from compliance import repository as cases
from compliance.schemas import EventIn
from compliance.service import record_event
from registry.clock import utc_now
from repairs import repository
from repairs.schemas import WorkOrderIn
from repairs.service import add_contractor, raise_work_order
from tests.integration.api.site import Site, build_site, notice

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path)


def _post(site: Site, role: str, path: str, **form: str):  # type: ignore[no-untyped-def]
    client = site.client(role)
    _, csrf = site.signed_in(role)
    return client.post(path, data={"csrf_token": csrf, **form})


def _said(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The message or error the redirect carries back to the page."""
    assert response.status_code == 303, response.text[:300]
    return notice(response)


def _local(hours_ago: float = 0) -> str:
    moment = utc_now() - timedelta(hours=hours_ago)
    return moment.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")


def _conclude_significant(site: Site) -> None:
    with site.context.sessions.begin() as session:
        record_event(
            session,
            case_id=site.case_id,
            event=EventIn(type="investigation_concluded", at=utc_now(), outcome="significant"),  # type: ignore[arg-type]
            actor="officer",
            now=utc_now(),
            engine=site.context.engine,
        )


def _order(site: Site, kind: str = "safety") -> int:
    with site.context.sessions.begin() as session:
        contractor = add_contractor(
            session, name=f"Dryhomes {kind}", kind="contractor", now=utc_now()
        )
        order = raise_work_order(
            session,
            order=WorkOrderIn(
                case_id=site.case_id, kind=kind, contractor_id=contractor.id, priority="urgent"
            ),  # type: ignore[arg-type]
            actor="officer",
            now=utc_now(),
        )
        return order.id


def _orders(site: Site) -> list:  # type: ignore[type-arg]
    with site.context.sessions() as session:
        found = list(repository.list_work_orders(session, case_id=site.case_id))
        for order in found:
            _ = order.visits, order.contractor
        return found


def test_an_officer_raises_a_work_order_with_a_new_contractor_and_a_viewer_cannot(site: Site):
    refused = _post(
        site,
        "viewer",
        f"/cases/{site.case_id}/work-orders",
        kind="safety",
        priority="urgent",
        new_contractor="X",
    )
    assert refused.status_code == 403
    assert _orders(site) == []

    said = _said(
        _post(
            site,
            "officer",
            f"/cases/{site.case_id}/work-orders",
            kind="safety",
            priority="emergency",
            new_contractor="Mould Busters Ltd",
            description="Treat the mould, fix the extractor fan",
        )
    )
    assert "error" not in said, said
    (order,) = _orders(site)
    assert (order.kind, order.priority, order.contractor.name, order.raised_by) == (
        "safety",
        "emergency",
        "Mould Busters Ltd",
        "officer",
    )
    assert said["message"] == f"Work order {order.id} raised: safety work, emergency."
    # the emergency priority's 24 h from the report is the target (no safety clock runs yet)
    with site.context.sessions() as session:
        case = cases.get_case(session, site.case_id)
        assert case is not None
        assert order.target_at == case.aware_at + timedelta(hours=24)

    page = site.client("officer").get(f"/cases/{site.case_id}")
    assert "Mould Busters Ltd" in page.text
    assert "Report to dispatch: not yet" in page.text


def test_raising_with_an_existing_contractor_and_the_refusals_come_back_with_reasons(site: Site):
    with site.context.sessions.begin() as session:
        contractor_id = add_contractor(
            session, name="In-house damp team", kind="in_house", now=utc_now()
        ).id
    said = _said(
        _post(
            site,
            "admin",
            f"/cases/{site.case_id}/work-orders",
            kind="supplementary",
            priority="routine",
            contractor_id=str(contractor_id),
        )
    )
    assert "message" in said, said
    assert _orders(site)[0].contractor_id == contractor_id

    no_contractor = _said(
        _post(
            site, "officer", f"/cases/{site.case_id}/work-orders", kind="safety", priority="urgent"
        )
    )
    assert no_contractor["error"] == "the form was not complete: choose a contractor, or add one"
    bad_priority = _said(
        _post(
            site,
            "officer",
            f"/cases/{site.case_id}/work-orders",
            kind="safety",
            priority="whenever",
            contractor_id=str(contractor_id),
        )
    )
    assert bad_priority["error"].startswith("the form was not complete: priority")
    duplicate = _said(
        _post(
            site,
            "officer",
            f"/cases/{site.case_id}/work-orders",
            kind="safety",
            priority="urgent",
            new_contractor="In-house damp team",
        )
    )
    assert "exists already" in duplicate["error"]
    assert len(_orders(site)) == 1  # nothing half-written by the refused forms


def test_an_officer_books_an_appointment_and_a_viewer_cannot(site: Site):
    order_id = _order(site)
    path = f"/cases/{site.case_id}/work-orders/{order_id}/appointments"
    assert _post(site, "viewer", path, booked_for=_local(-24)).status_code == 403
    assert _orders(site)[0].status == "raised"
    said = _said(_post(site, "officer", path, booked_for=_local(-24)))
    assert said == {"message": f"Appointment booked for work order {order_id}."}
    (order,) = _orders(site)
    assert order.status == "booked"
    assert [v.outcome for v in order.visits] == ["booked"]


def test_an_officer_dispatches_and_the_first_part_of_the_journey_shows(site: Site):
    order_id = _order(site)
    path = f"/cases/{site.case_id}/work-orders/{order_id}/dispatch"
    assert _post(site, "viewer", path, at=_local()).status_code == 403
    assert _orders(site)[0].dispatched_at is None
    when = _local()
    said = _said(_post(site, "officer", path, at=when))
    assert "message" in said, said
    (order,) = _orders(site)
    assert order.status == "dispatched"
    # the form's local minute is the dispatch time; the journey runs from the report
    assert order.dispatched_at == datetime.fromisoformat(when).replace(
        tzinfo=ZoneInfo("Europe/London")
    )
    page = site.client("officer").get(f"/cases/{site.case_id}").text
    part_one = order.dispatched_at - order.reported_at
    assert timedelta(hours=1, minutes=58) <= part_one
    assert f"Report to dispatch: {duration(part_one)}" in page
    assert "Dispatch to completion: not yet" in page


def test_a_completed_visit_meets_the_safety_clock_and_a_viewer_cannot_record_one(site: Site):
    _conclude_significant(site)
    order_id = _order(site)
    path = f"/cases/{site.case_id}/work-orders/{order_id}/visits"
    form = {"outcome": "completed", "at": _local(), "work_done": "Fan replaced, mould treated"}
    assert _post(site, "viewer", path, **form).status_code == 403
    assert _orders(site)[0].status == "raised"

    said = _said(_post(site, "officer", path, **form))
    assert said == {"message": f"Visit recorded on work order {order_id}: completed."}
    (order,) = _orders(site)
    assert order.status == "completed"
    with site.context.sessions() as session:
        case = cases.get_case(session, site.case_id)
        assert case is not None
        assert {c.kind: c.status for c in case.clocks}["safety_work"] == "met"

    again = _said(_post(site, "officer", path, **form))
    assert again["error"] == f"work order {order_id} is completed"


def test_a_no_access_visit_needs_method_and_reason(site: Site):
    order_id = _order(site)
    path = f"/cases/{site.case_id}/work-orders/{order_id}/visits"
    missing = _said(_post(site, "officer", path, outcome="no_access", at=_local(), method="phone"))
    assert "needs the method and the reason" in missing["error"]
    assert _orders(site)[0].status == "raised"
    said = _said(
        _post(
            site,
            "officer",
            path,
            outcome="no_access",
            at=_local(),
            method="Phone",
            reason="nobody home",
        )
    )
    assert "message" in said, said
    (order,) = _orders(site)
    assert order.status == "no_access"
    assert (order.visits[-1].method, order.visits[-1].reason) == ("phone", "nobody home")
    with site.context.sessions() as session:
        case = cases.get_case(session, site.case_id)
        assert case is not None
        assert (
            case.access_failures == 1
        )  # before the investigation concludes: compliance's access_failed


def test_satisfaction_after_completion_only(site: Site):
    order_id = _order(site)
    path = f"/cases/{site.case_id}/work-orders/{order_id}/satisfaction"
    early = _said(_post(site, "officer", path, score="4", at=_local()))
    assert early["error"] == "satisfaction is asked after the work is completed"
    _said(
        _post(
            site,
            "officer",
            f"/cases/{site.case_id}/work-orders/{order_id}/visits",
            outcome="completed",
            at=_local(),
            work_done="done",
        )
    )
    assert _post(site, "viewer", path, score="4", at=_local()).status_code == 403
    assert "message" in _said(_post(site, "officer", path, score="4", at=_local()))
    assert _orders(site)[0].satisfaction_score == 4


def test_a_work_order_of_another_case_is_not_touched_through_this_one(site: Site):
    order_id = _order(site)
    said = _said(
        _post(
            site,
            "officer",
            f"/cases/{site.tenant_case_id}/work-orders/{order_id}/dispatch",
            at=_local(),
        )
    )
    assert said["error"] == f"case {site.tenant_case_id} has no work order {order_id}"
    assert _orders(site)[0].dispatched_at is None


def test_the_equity_csv_is_the_apis_table_for_analysts_only(site: Site):
    query = "?outcome=breached&by=ethnicity"
    for role in ("viewer", "officer", "compliance"):
        assert site.client(role).get(f"/equity/outcomes.csv{query}").status_code == 403
    download = site.client("analyst").get(f"/equity/outcomes.csv{query}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    api = site.client("analyst", bearer=True).get(f"/api/v1/equity/outcomes.csv{query}")
    assert api.status_code == 200
    assert download.text == api.text
    assert download.text.splitlines()[0].startswith("outcome,dimension,level")
    page = site.client("analyst").get(f"/equity{query}")
    assert 'href="/equity/outcomes.csv?outcome=breached&amp;by=ethnicity"' in page.text


def test_you_said_we_did_is_published_by_compliance_and_refused_to_a_viewer(site: Site):
    entry = {
        "you_said": "Mould came back after the repair.",
        "we_did": "We now check sensors for 90 days.",
    }
    assert _post(site, "viewer", "/transparency/you-said-we-did", **entry).status_code == 403
    assert _post(site, "officer", "/transparency/you-said-we-did", **entry).status_code == 403
    assert "Mould came back" not in site.client().get("/transparency").text

    said = _said(_post(site, "compliance", "/transparency/you-said-we-did", **entry))
    assert said == {"message": "Published: you said, we did."}
    public = site.client().get("/transparency")
    assert public.status_code == 200
    assert "Mould came back after the repair." in public.text
    assert "We now check sensors for 90 days." in public.text
    assert (
        'action="/transparency/you-said-we-did"' not in public.text
    )  # the form is not offered to the public
    assert (
        'action="/transparency/you-said-we-did"'
        in site.client("compliance").get("/transparency").text
    )

    empty = _said(_post(site, "admin", "/transparency/you-said-we-did", you_said="", we_did="x"))
    assert "you_said" in empty["error"]
