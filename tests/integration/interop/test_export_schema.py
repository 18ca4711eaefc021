"""Every export validates against its JSON Schema, on SQLite and PostgreSQL, for a fleet with
every kind of case, step and work order (tests/interop_fleet.py, built through the services).

The schemas: ``interop/data_model/*_component.json`` are written from the damp and mould data
model's published component schemas (github.com/data-futurists/damp-and-mould-standards-concept,
``schemas/investigation_component.JSON`` and ``schemas/work_order_component.JSON`` at ef4e66e,
MIT); ``interop/data_model/published/`` holds those published schemas copied unchanged, and the
investigation document validates against the published one as it is. The published work order
schema holds one work order and requires actual dates; each completed work order of ours
validates against it as it is.
"""

from __future__ import annotations

import pytest

from interop import data_model, enums, service
from tests.interop_fleet import NOW, START

pytestmark = pytest.mark.integration


def export(store, component: str, *, personal: bool = True):
    with store.sessions() as session:
        return service.export_damp_and_mould(
            session,
            component=component,
            start=START,
            end=NOW,
            now=NOW,
            engine=store.engine,
            personal=personal,
        )


@pytest.mark.parametrize("personal", [True, False])
def test_the_investigation_export_validates_against_ours_and_the_published_schema(store, personal):
    document = export(store, "investigation", personal=personal)
    assert data_model.errors("investigation", document) == []
    assert data_model.errors("investigation", document, published=True) == []
    assert len(document["hazard_report"]) == len(store.fleet.cases)


@pytest.mark.parametrize("personal", [True, False])
def test_the_work_order_export_validates_and_each_completed_order_against_the_published(
    store, personal
):
    document = export(store, "work_order", personal=personal)
    assert data_model.errors("work_order", document) == []
    assert len(document["work_order"]) == len(store.fleet.work_orders)
    completed = [o for o in document["work_order"] if o["actual_completion_date_time"]]
    assert len(completed) == 4
    for order in completed:
        assert data_model.errors("work_order", {"work_order": order}, published=True) == []


def test_a_schema_that_is_broken_is_reported_by_path(store):
    document = export(store, "investigation")
    del document["hazard_report"][0]["uprn"]
    document["investigation"][0]["sla_breach_flag"] = "no"
    assert data_model.errors("investigation", document) == [
        "hazard_report/0: 'uprn' is a required property",
        "investigation/0/sla_breach_flag: 'no' is not of type 'boolean'",
    ]


def test_the_code_lists_are_the_models_and_sensor_cases_are_environmental_sensor(store):
    document = export(store, "investigation")
    assert {row["trigger_source"] for row in document["trigger_source"]} == {
        "Tenant Report",
        "Routine Check",
        "Environmental Sensor",
        "Staff Report",
    }
    sensor = {store.fleet.cases["sensor_full"], store.fleet.cases["sensor_emergency_recurred"]}
    environmental = enums.code_id(enums.TRIGGER_SOURCES, "Environmental Sensor")
    for investigation in document["investigation"]:
        if investigation["hazard_report_id"] in sensor:
            assert investigation["trigger_source_id"] == environmental
        else:
            assert investigation["trigger_source_id"] != environmental
    types = {
        row["investigation_type_id"]: row["investigation_type"]
        for row in document["investigation_type"]
    }
    assert {types[i["investigation_type_id"]] for i in document["investigation"]} == {
        "Standard",
        "Renewed",
        "Further",
        "Emergency",
    }
    escalation_types = {
        r["escalation_type_id"]: r["escalation_type"] for r in document["escalation_type"]
    }
    assert {escalation_types[e["escalation_type_id"]] for e in document["escalation"]} == {
        "Alternative Accommodation",
        "Senior Review",
    }
    methods = {
        r["notification_method_id"]: r["notification_method"]
        for r in document["notification_method"]
    }
    assert sorted(methods[n["notification_method_id"]] for n in document["notification"]) == [
        "Email",
        "Letter",
        "Letter",
        "Phone Call",
        "SMS",
    ]
    statuses = {r["report_status_id"]: r["report_status"] for r in document["report_status"]}
    assert {statuses[r["report_status_id"]] for r in document["hazard_report"]} == {
        "Open",
        "Under Review",
        "Made Safe",
        "Closed",
    }


def test_cases_and_exports_carry_the_tenancy(store):
    document = export(store, "investigation")
    tenancies = {t["tenancy_id"]: t["homesafe_tenancy_ref"] for t in document["tenancy"]}
    by_case = {r["hazard_report_id"]: r["tenancy_id"] for r in document["hazard_report"]}
    assert tenancies[by_case[store.fleet.cases["sensor_full"]]] == "T-H0001"
    assert by_case[store.fleet.cases["no_tenancy"]] == 0  # none on record: 0
    orders = export(store, "work_order")["work_order"]
    assert {o["tenancy_id"] for o in orders} >= {"T-H0001", "T-H0002"}


def test_personal_data_only_when_allowed_and_special_category_never(store):
    with_personal = export(store, "investigation", personal=True)
    without = export(store, "investigation", personal=False)
    assert "Tenant 1" in str(with_personal)
    assert "tenant1@example.org" in str(with_personal)
    assert "Child wheezing" in str(with_personal)
    for text in (
        "Tenant 1",
        "tenant1@example.org",
        "Child wheezing",
        "Elm Court",
        "duplicate of case 1",
    ):
        assert text not in str(without)
    for document in (with_personal, without):
        for special in ("MED1.01", "AGE1.02", "'Black'", "ethnicity", "disability"):
            assert special not in str(document)
