"""Which messages an event makes, the retry schedule, the templates and their languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify import rules, templates

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def plans(type, **detail):
    return [(p.audience, p.template) for p in rules.plans_for(type, detail)]


def test_a_tenant_report_is_acknowledged_and_a_staff_one_is_not():
    assert plans("case.opened", step="opened", report={"source": "tenant"}) == [
        ("tenant", "report_received")
    ]
    assert plans("case.updated", step="evidence_added", report={"source": "tenant"}) == [
        ("tenant", "report_received")
    ]
    assert plans("case.opened", step="opened", report={"source": "staff"}) == []
    assert plans("case.opened", step="opened", source="sensor") == []


@pytest.mark.parametrize(
    ("type", "step", "template"),
    [
        ("case.updated", "investigation_booked", "investigation_booked"),
        ("work_order.updated", "booked", "work_booked"),
        ("case.updated", "safety_work_completed", "work_completed"),
        ("case.updated", "supplementary_work_completed", "work_completed"),
    ],
)
def test_the_tenant_hears_of_each_step(type, step, template):
    assert plans(type, step=step) == [("tenant", template)]


def test_a_case_becoming_an_emergency_alerts_staff_once():
    assert ("staff", "emergency_new") in plans(
        "case.opened", step="opened", category="emergency", category_before=None
    )
    assert (
        plans(
            "case.updated", step="evidence_added", category="emergency", category_before="emergency"
        )
        == []
    )


@pytest.mark.parametrize(
    ("kind", "label", "alert"),
    [
        ("investigate", "1_working_days_left", True),
        ("investigate", "2_working_days_left", False),
        ("investigate", "4_hours_left", False),
        ("emergency_action", "4_hours_left", True),
        ("emergency_action", "1_working_days_left", False),
    ],
)
def test_staff_are_alerted_one_working_day_or_four_hours_before_a_deadline(kind, label, alert):
    made = plans("clock.warning", label=label, clock={"kind": kind})
    assert made == ([("staff", "clock_alert")] if alert else [])


def test_breaches_and_recurrences_alert_staff():
    assert plans("clock.breached", clock={"kind": "investigate"}) == [("staff", "clock_breached")]
    assert plans("work_order.updated", step="recurred") == [("staff", "repair_recurred")]


def test_retries_back_off_exponentially_and_stop_after_a_day():
    delays = [rules.retry_delay(n).total_seconds() for n in range(1, 9)]
    assert delays[:5] == [10, 40, 160, 640, 2560]
    assert delays[-1] == 36_000  # capped at 10 h
    assert rules.next_attempt(3, T0, T0 + timedelta(hours=1)) == T0 + timedelta(
        hours=1, seconds=160
    )
    assert rules.next_attempt(9, T0, T0 + timedelta(hours=23, minutes=59)) is not None
    assert rules.next_attempt(9, T0, T0 + timedelta(hours=24)) is None


@pytest.mark.parametrize(
    ("tenancy", "needs", "language"),
    [
        ("cy-GB", None, "cy"),
        ("pl", "Welsh", "pl"),
        ("en", None, "en"),
        (None, "Polish interpreter", "pl"),
        ("ur", "Cymraeg", "cy"),
        ("ur", None, "en"),  # no Urdu templates yet: English
        (None, "no", "en"),
    ],
)
def test_the_language_is_the_tenancy_s_then_the_household_s_then_english(tenancy, needs, language):
    assert templates.choose_language(tenancy, needs) == language


def test_every_tenant_template_exists_in_every_language_with_the_same_placeholders():
    import string

    names = {name for name, _ in templates.TEMPLATES}
    tenant = {
        "report_received",
        "investigation_booked",
        "written_summary",
        "work_booked",
        "work_completed",
    }
    assert tenant <= names
    for name in tenant:
        english = templates.TEMPLATES[(name, "en")]
        for language in templates.LANGUAGES:
            local = templates.TEMPLATES[(name, language)]
            for part in ("subject", "body", "sms"):
                fields = {f for _, f, _, _ in string.Formatter().parse(getattr(local, part)) if f}
                known = {f for _, f, _, _ in string.Formatter().parse(getattr(english, part)) if f}
                assert fields <= known | {"landlord", "contact"}, (name, language, part)


def test_rendering_fills_what_is_known_and_never_prints_a_placeholder():
    words = templates.render(
        "report_received", "pl", {"hazard_key": "damp_and_mould", "reference": "R-ABC"}
    )
    assert words.language == "pl"
    assert "wilgoć i pleśń" in words.body
    assert "damp and mould" in words.body  # the English after it
    assert "{" not in words.body
    assert "{" not in words.sms
    assert len(templates.render("report_received", "en", {"reference": "R-ABC"}).sms) <= 160
