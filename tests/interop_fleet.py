"""A fleet with every kind of case, step and work order, built through the service functions
(compliance, repairs, registry) at the times each step happened: the data the interop exports
are tested on. Each step is recorded a few minutes after it happened, as an officer would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from compliance import service as compliance
from compliance.schemas import EventIn, FindingIn, ReportIn, WorkPlanIn
from compliance.service import Engine
from registry.service import import_registry
from repairs import service as repairs
from repairs.schemas import VisitIn, WorkOrderIn
from tests.factories import homes_csv, households_csv, tenancies_csv

HOMES = 16
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # the fleet's present: exports are made now
START = datetime(2025, 10, 1, tzinfo=UTC)
LAG = timedelta(minutes=7)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Fleet:
    """Case ids by story, and work order ids by what happened to them."""

    cases: dict[str, int] = field(default_factory=dict)
    work_orders: dict[str, int] = field(default_factory=dict)
    contractors: dict[str, int] = field(default_factory=dict)


def _registry(session: Session) -> None:
    ids = [f"H{i:04d}" for i in range(1, HOMES + 1)]
    homes = homes_csv(homes=HOMES, sensors_per_home=2)
    lines = homes.splitlines()
    # H0016 has no UPRN on record.
    lines = [line.replace(",100000016,", ",,") for line in lines]
    tenancies = tenancies_csv(ids[:-2])  # H0015 and H0016 have no tenancy on record
    # H0014 is a leasehold: Awaab's Law clocks do not run.
    tenancies = tenancies.replace(
        "T-H0014,H0014,2020-04-01,,social_rent", "T-H0014,H0014,2020-04-01,,leasehold"
    )
    import_registry(
        session,
        homes_text="\n".join(lines) + "\n",
        households_text=households_csv(ids[:8], alert_codes="MED1.01;AGE1.02"),
        tenancies_text=tenancies,
    )


class _Story:
    def __init__(self, session: Session, engine: Engine) -> None:
        self.session = session
        self.engine = engine

    def report(
        self,
        home: str,
        when: str,
        *,
        source: str = "tenant",
        emergency: bool = False,
        text: str = "",
    ) -> int:
        reported = at(when)
        case, _ = compliance.record_report(
            self.session,
            report=ReportIn(
                home_id=home,
                hazard="damp_and_mould",
                source=source,  # type: ignore[arg-type]
                reported_at=reported,
                description=text or f"mould in the bedroom ({source})",
                emergency=emergency,
            ),
            actor="officer-1",
            now=reported + LAG,
            engine=self.engine,
        )
        return case.id

    def finding(self, home: str, when: str, *, category: str = "potential") -> int:
        detected = at(when)
        case, _ = compliance.record_finding(
            self.session,
            finding=FindingIn(
                home_id=home,
                hazard="damp_and_mould",
                category=category,  # type: ignore[arg-type]
                detected_at=detected,
                sensor=f"gw-{home[1:]}/s2",
                room="bedroom",
                rule="mould_index",
                rule_version="2",
                window_start=detected - timedelta(days=7),
                window_end=detected,
                figures={"mould_index": 2.4, "confidence": 0.9},
                description="mould_index v2 (sustained high humidity)",
            ),
            now=detected,
            engine=self.engine,
        )
        return case.id

    def event(
        self, case_id: int, type_: str, when: str, *, by: str = "officer-1", **fields: object
    ) -> None:
        happened = at(when)
        compliance.record_event(
            self.session,
            case_id=case_id,
            event=EventIn.model_validate({"type": type_, "at": happened, **fields}),
            actor=by,
            now=happened + LAG,
            engine=self.engine,
        )

    def sweep(self, when: str) -> None:
        compliance.breach_due_clocks(self.session, now=at(when), actor="scheduler")

    def order(
        self,
        case_id: int,
        contractor: int,
        when: str,
        *,
        kind: str = "safety",
        priority: str = "urgent",
    ) -> int:
        order = repairs.raise_work_order(
            self.session,
            order=WorkOrderIn(
                case_id=case_id,
                kind=kind,  # type: ignore[arg-type]
                contractor_id=contractor,
                priority=priority,  # type: ignore[arg-type]
                description=f"{kind} work: treat mould, fix extractor",
            ),
            actor="officer-1",
            now=at(when),
        )
        return order.id

    def book(self, order: int, when: str, booked_for: str) -> None:
        repairs.book_visit(
            self.session,
            work_order_id=order,
            booked_for=at(booked_for),
            actor="officer-1",
            now=at(when),
        )

    def dispatch(self, order: int, when: str) -> None:
        repairs.dispatch(
            self.session,
            work_order_id=order,
            at=at(when),
            actor="officer-1",
            now=at(when) + LAG,
            engine=self.engine,
        )

    def visit(self, order: int, when: str, outcome: str, **fields: str) -> None:
        repairs.record_visit(
            self.session,
            work_order_id=order,
            visit=VisitIn.model_validate({"outcome": outcome, "at": at(when), **fields}),
            actor="contractor-portal",
            now=at(when) + LAG,
            engine=self.engine,
        )


def build_fleet(sessions: sessionmaker[Session], engine: Engine) -> Fleet:
    """Every kind of case, step and work order, each story in its own transaction."""
    fleet = Fleet()
    with sessions.begin() as session:
        _registry(session)
        fleet.contractors["dampfix"] = repairs.add_contractor(
            session, name="Dampfix Ltd", kind="contractor", now=START
        ).id
        fleet.contractors["in_house"] = repairs.add_contractor(
            session, name="Repairs team", kind="in_house", now=START
        ).id
    dampfix, in_house = fleet.contractors["dampfix"], fleet.contractors["in_house"]

    with sessions.begin() as session:
        s = _Story(session, engine)
        # 1. A sensor case worked end to end: booked, a failed access, significant with
        #    supplementary work, summary by email, safety and supplementary work orders completed,
        #    closed as verified.
        c = fleet.cases["sensor_full"] = s.finding("H0001", "2026-01-05T09:00:00+00:00")
        s.event(c, "investigation_booked", "2026-01-06T10:00:00+00:00")
        s.event(c, "access_failed", "2026-01-07T10:00:00+00:00", method="phone", note="no answer")
        s.event(
            c,
            "investigation_concluded",
            "2026-01-08T11:00:00+00:00",
            outcome="significant",
            method="in_person",
            investigator="Sam Surveyor",
            investigator_role="damp surveyor",
            findings="Black mould on the bedroom's outside wall; the extractor fan has failed.",
            supplementary_work_needed=True,
            safety_work=WorkPlanIn(
                what="Mould wash and a new extractor fan", complete_by=at("2026-01-15").date()
            ).model_dump(),
            supplementary_work=WorkPlanIn(what="Insulate the outside wall").model_dump(),
        )
        s.event(c, "summary_sent", "2026-01-09T10:00:00+00:00", method="email")
        w = fleet.work_orders["completed_verified"] = s.order(
            c, dampfix, "2026-01-08T12:00:00+00:00"
        )
        s.book(w, "2026-01-08T12:30:00+00:00", "2026-01-12T09:00:00+00:00")
        s.dispatch(w, "2026-01-12T08:00:00+00:00")
        s.visit(
            w, "2026-01-12T12:00:00+00:00", "completed", work_done="mould wash, new extractor fan"
        )
        s.event(
            c,
            "supplementary_steps_taken",
            "2026-01-13T10:00:00+00:00",
            note="wall insulation survey booked",
        )
        w = fleet.work_orders["supplementary"] = s.order(
            c, in_house, "2026-01-14T10:00:00+00:00", kind="supplementary", priority="routine"
        )
        s.dispatch(w, "2026-01-20T08:00:00+00:00")
        s.visit(w, "2026-02-02T15:00:00+00:00", "completed", work_done="outside wall insulated")
        s.event(c, "supplementary_work_completed", "2026-02-02T16:00:00+00:00")
        s.event(c, "closed", "2026-02-03T10:00:00+00:00", reason="work_complete_verified")

        # 2. An emergency from a tenant: 24 hours, alternative accommodation offered, accepted,
        #    moved (the 24-hour duty ceases), returned; an emergency work order with no access and
        #    a follow-on, then completed.
        c = fleet.cases["emergency_accommodation"] = s.report(
            "H0002",
            "2026-01-12T08:00:00+00:00",
            emergency=True,
            text="Child wheezing, mould everywhere",
        )
        s.event(
            c,
            "investigation_concluded",
            "2026-01-12T14:00:00+00:00",
            outcome="emergency",
            method="in_person",
            investigator="Sam Surveyor",
            findings="Widespread mould in two bedrooms.",
        )
        s.event(
            c,
            "alternative_accommodation_offered",
            "2026-01-12T15:00:00+00:00",
            note="Two-bed flat at 4 Elm Court",
        )
        s.event(c, "alternative_accommodation_accepted", "2026-01-12T16:00:00+00:00")
        s.event(c, "household_moved", "2026-01-12T20:00:00+00:00")
        s.event(c, "summary_sent", "2026-01-13T10:00:00+00:00", method="letter")
        w = fleet.work_orders["no_access_then_completed"] = s.order(
            c, dampfix, "2026-01-12T15:30:00+00:00", priority="emergency"
        )
        s.visit(w, "2026-01-13T09:00:00+00:00", "no_access", method="phone", reason="keys not left")
        s.visit(w, "2026-01-14T09:00:00+00:00", "follow_on", reason="a second trade needed")
        s.visit(
            w, "2026-01-20T09:00:00+00:00", "completed", work_done="mould treated, walls sealed"
        )
        s.event(c, "household_returned", "2026-01-25T12:00:00+00:00")

        # 3. A remote investigation, a renewed one in person at the tenant's request, no hazard;
        #    summary by phone; closed.
        c = fleet.cases["renewed_no_hazard"] = s.report(
            "H0003", "2026-01-19T09:00:00+00:00", source="staff"
        )
        s.event(
            c,
            "investigation_concluded",
            "2026-01-21T10:00:00+00:00",
            outcome="not_significant",
            method="remote",
            investigator="Pat Officer",
        )
        s.event(c, "summary_sent", "2026-01-22T10:00:00+00:00", method="phone")
        s.event(c, "renewed_investigation_requested", "2026-01-23T10:00:00+00:00")
        s.event(c, "investigation_booked", "2026-01-26T10:00:00+00:00")
        s.event(
            c,
            "investigation_concluded",
            "2026-01-28T10:00:00+00:00",
            outcome="no_hazard",
            method="in_person",
            investigator="Sam Surveyor",
            findings="Condensation only; advice given.",
        )
        s.event(c, "summary_sent", "2026-01-29T10:00:00+00:00", method="letter")
        s.event(c, "closed", "2026-01-30T10:00:00+00:00", reason="no_hazard_found")

        # 4. A contractor's report found significant; no summary in time and the safety work
        #    late: breaches, accommodation due, offered and declined; a work order only booked.
        c = fleet.cases["breached_declined"] = s.report(
            "H0004", "2026-02-02T09:00:00+00:00", source="contractor"
        )
        s.event(c, "investigation_concluded", "2026-02-03T10:00:00+00:00", outcome="significant")
        w = fleet.work_orders["booked"] = s.order(c, dampfix, "2026-02-03T11:00:00+00:00")
        s.book(w, "2026-02-03T11:30:00+00:00", "2026-03-02T09:00:00+00:00")
        s.sweep("2026-02-20T00:00:00+00:00")
        s.event(c, "alternative_accommodation_offered", "2026-02-20T10:00:00+00:00")
        s.event(c, "alternative_accommodation_declined", "2026-02-21T10:00:00+00:00")

        # 5. A tenant's report nobody investigated: the investigation clock breaches.
        fleet.cases["uninvestigated"] = s.report("H0005", "2026-02-02T09:00:00+00:00")
        w = fleet.work_orders["raised_only"] = s.order(
            fleet.cases["uninvestigated"], in_house, "2026-02-03T09:00:00+00:00", priority="routine"
        )

        # 6. Closing over an outstanding duty needs a second person: requested, then approved.
        c = fleet.cases["closed_by_second_person"] = s.report("H0006", "2026-02-09T09:00:00+00:00")
        s.event(
            c,
            "closure_requested",
            "2026-02-09T12:00:00+00:00",
            reason="duplicate",
            note="duplicate of case 1",
        )
        s.event(
            c,
            "closed",
            "2026-02-09T13:00:00+00:00",
            by="officer-2",
            reason="duplicate",
            note="duplicate of case 1",
        )

        # 7. A home with no tenancy and no UPRN on record.
        fleet.cases["no_tenancy"] = s.report("H0016", "2026-02-10T09:00:00+00:00")

        # 8. An emergency whose 24-hour duty ceased (a third party's consent refused).
        c = fleet.cases["emergency_ceased"] = s.report(
            "H0007", "2026-02-16T09:00:00+00:00", emergency=True
        )
        s.event(
            c,
            "emergency_duty_ceased",
            "2026-02-16T18:00:00+00:00",
            reason="third_party_consent_refused",
            note="freeholder refused scaffold access; letters sent 16/2",
        )

        # 9. Closed, reopened (a further investigation), then a further finding.
        c = fleet.cases["reopened"] = s.report("H0008", "2026-02-16T09:00:00+00:00")
        s.event(
            c,
            "investigation_concluded",
            "2026-02-17T10:00:00+00:00",
            outcome="no_hazard",
            method="in_person",
        )
        s.event(c, "summary_sent", "2026-02-17T15:00:00+00:00", method="sms")
        s.event(c, "closed", "2026-02-18T10:00:00+00:00")
        s.event(c, "reopened", "2026-03-02T10:00:00+00:00", note="tenant reports mould again")
        s.event(
            c,
            "investigation_concluded",
            "2026-03-04T10:00:00+00:00",
            outcome="significant",
            method="in_person",
            investigation_type="further",
        )

        # 10. A later report joins a concluded case: a further investigation is due.
        c = fleet.cases["later_report"] = s.report("H0009", "2026-02-23T09:00:00+00:00")
        s.event(
            c,
            "investigation_concluded",
            "2026-02-24T10:00:00+00:00",
            outcome="not_significant",
            method="in_person",
        )
        s.report("H0009", "2026-03-09T09:00:00+00:00", text="It is back, worse")

        # 11. Safety work that cannot be done in time: accommodation due before any breach;
        #     the safety work then starts (dispatched) and completes on a visit.
        c = fleet.cases["cannot_be_met"] = s.report("H0010", "2026-03-02T09:00:00+00:00")
        s.event(
            c,
            "investigation_concluded",
            "2026-03-03T10:00:00+00:00",
            outcome="significant",
            method="in_person",
        )
        compliance.safety_work_cannot_be_met(
            session,
            case_id=c,
            reason="specialist contractor needed",
            actor="officer-1",
            now=at("2026-03-03T12:00:00+00:00"),
            engine=engine,
        )
        w = fleet.work_orders["dispatched"] = s.order(c, dampfix, "2026-03-03T13:00:00+00:00")
        s.dispatch(w, "2026-03-05T08:00:00+00:00")

        # 12. A further investigation opened on a concluded case (new information).
        c = fleet.cases["further_opened"] = s.report("H0011", "2026-03-09T09:00:00+00:00")
        s.event(
            c,
            "investigation_concluded",
            "2026-03-10T10:00:00+00:00",
            outcome="not_significant",
            method="remote",
        )
        s.event(
            c,
            "further_investigation_opened",
            "2026-03-16T10:00:00+00:00",
            note="photos show spread",
        )

        # 13. Out of scope: a report before Awaab's Law came into force; a leasehold home.
        fleet.cases["before_the_law"] = s.report("H0012", "2025-10-10T09:00:00+00:00")
        fleet.cases["leasehold"] = s.report("H0014", "2026-03-10T09:00:00+00:00")

        # 14. A sensor emergency (a vulnerable household), its repair completed and the hazard
        #     back within the watch: the repair is flagged, the case carries the recurrence.
        c = fleet.cases["sensor_emergency_recurred"] = s.finding(
            "H0013", "2026-03-02T03:00:00+00:00", category="emergency"
        )
        s.event(
            c,
            "investigation_concluded",
            "2026-03-02T10:00:00+00:00",
            outcome="emergency",
            method="in_person",
        )
        w = fleet.work_orders["recurred"] = s.order(
            c, in_house, "2026-03-02T10:30:00+00:00", priority="emergency"
        )
        s.dispatch(w, "2026-03-02T12:00:00+00:00")
        s.visit(w, "2026-03-02T16:00:00+00:00", "completed", work_done="leak fixed, wall dried")
        # (all work finished before the summary was due: the summary duty ceased)

    with sessions.begin() as session:
        s = _Story(session, engine)
        # the hazard back on the sensor within the watch: repairs flags the order
        repairs.handle_finding(
            session,
            finding=FindingIn(
                home_id="H0013",
                hazard="damp_and_mould",
                category="potential",
                detected_at=at("2026-03-10T03:00:00+00:00"),
                sensor="gw-0013/s2",
                room="bedroom",
                rule="mould_index",
                rule_version="2",
                window_start=at("2026-03-03T03:00:00+00:00"),
                window_end=at("2026-03-10T03:00:00+00:00"),
            ),
            now=at("2026-03-10T03:00:00+00:00"),
            engine=engine,
        )
        # all reasonable endeavours recorded against case 4's late summary, accepted; case 5 assigned
        compliance.record_reasonable_steps(
            session,
            case_id=fleet.cases["breached_declined"],
            kind="written_summary",
            steps="tenant in hospital; letter held at their request",
            actor="officer-1",
            now=at("2026-02-21T12:00:00+00:00"),
        )
        compliance.excuse_breach(
            session,
            case_id=fleet.cases["breached_declined"],
            kind="written_summary",
            actor="compliance-1",
            now=at("2026-02-23T09:00:00+00:00"),
            note="hospital letter seen",
        )
        compliance.assign_case(
            session,
            case_id=fleet.cases["uninvestigated"],
            officer="officer-2",
            actor="officer-1",
            now=at("2026-02-03T09:30:00+00:00"),
        )
        repairs.record_satisfaction(
            session,
            work_order_id=fleet.work_orders["completed_verified"],
            score=4,
            at=at("2026-01-20T10:00:00+00:00"),
            actor="officer-1",
            now=at("2026-01-20T10:00:00+00:00"),
        )
        # the watch on case 1's repairs ends healthy
        repairs.verify_repairs(session, now=at("2026-03-20T00:00:00+00:00"), engine=engine)
        s.sweep(NOW.isoformat())
    return fleet
