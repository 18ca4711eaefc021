"""A case's evidence pack for the Housing Ombudsman or a court: one PDF, and a ZIP of the same as
data (with the PDF inside and a manifest of SHA-256 sums).

It holds the case and who it is about, every clock with met or breach and how it ended, the
timeline, the letters sent, the sensor evidence (readings and charts), work orders and visits,
and the audit log's re-check of every entry about the case. Gathered from each room's service or
repository, laid out here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fpdf import FPDF
from sqlalchemy.orm import Session

from api.deps import AppContext, Context, DbSession, RowId, page_require
from api.pages import sensors
from api.pages.work import CLOSURE_WORDS, STEP_DONE, not_found
from api.session import SignedIn
from compliance import audit, repository, service
from compliance.models import Case
from compliance.summary import _latin1
from registry.clock import to_rfc3339, utc_now
from repairs import repository as repairs_repository

router = APIRouter(include_in_schema=False)


@dataclass
class Pack:
    """Everything the pack says, as rows and texts (the PDF and the ZIP are two layouts of it)."""

    case_id: int
    made_at: datetime
    timezone: str
    facts: list[tuple[str, str]]
    clocks: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    letters: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    readings: list[dict[str, Any]]
    charts: list[sensors.Chart]
    work_orders: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    chain: dict[str, Any]
    investigations: list[dict[str, Any]] = field(default_factory=list)


def _t(at: datetime | None) -> str:
    return to_rfc3339(at) if at else ""


def gather(session: Session, context: AppContext, case: Case, *, now: datetime) -> Pack:
    """The pack's contents, from the rooms that own them."""
    engine = context.engine
    tz = engine.calendar.timezone
    people = service.case_people(session, case, engine, personal=True, needs=True, now=now)
    tenant = people.get("tenant") or {}
    record = service.case_record(case)
    facts = [
        ("Case", str(case.id)),
        ("Home", case.home_id),
        ("Address", people.get("address") or "not recorded"),
        ("Tenant", tenant.get("name") or "not recorded"),
        (
            "Tenancy",
            f"{tenant.get('tenancy_ref') or '-'} ({tenant.get('tenure') or 'tenure not recorded'})",
        ),
        ("Hazard", case.hazard.replace("_", " ")),
        ("Category", case.category),
        ("Came to us from", case.source),
        ("Landlord aware", _local(case.aware_at, tz)),
        ("Rules", case.rule_set.replace("_", " ")),
        ("In scope", "yes" if case.in_scope else f"no: {case.scope_reason}"),
        (
            "Status",
            case.status
            + (
                f" ({CLOSURE_WORDS.get(case.closure_reason or '', case.closure_reason)})"
                if case.closure_reason
                else ""
            ),
        ),
        (
            "Household needs considered",
            ", ".join(people.get("household_needs") or []) or "none recorded",
        ),
        ("Alternative accommodation", case.accommodation.replace("_", " ")),
    ]
    clocks = [
        {
            "duty": service.duty_label(c),
            "kind": c.kind,
            "started_at": _t(c.started_at),
            "due_at": _t(c.due_at),
            "status": c.status,
            "done_or_ended_at": _t(c.met_at),
            "ended": c.ended or "",
            "ended_reason": c.ended_reason or "",
            "breached_at": _t(c.breached_at),
            "reasonable_endeavours": c.reasonable_steps or "",
            "excused_by": c.excused_by or "",
            "excused_at": _t(c.excused_at),
            "excuse_reason": c.excuse_reason or "",
        }
        for c in case.clocks
    ]
    timeline = [
        {
            "at": _t(e.at),
            "recorded_at": _t(e.recorded_at),
            "step": STEP_DONE.get(e.type, e.type),
            "type": e.type,
            "actor": e.actor,
            "note": e.note or "",
            "details": json.dumps(
                {k: v for k, v in e.details.items() if k != "evidence"}, sort_keys=True
            ),
        }
        for e in case.events
    ]
    letters = [
        {
            "sent_at": _t(e.at),
            "method": e.details.get("method") or "",
            "by": e.actor,
            "sha256": (e.details.get("evidence") or {}).get("sha256", "")
            if isinstance(e.details.get("evidence"), dict)
            else "",
            "text": (e.details.get("evidence") or {}).get("text", "")
            if isinstance(e.details.get("evidence"), dict)
            else "",
        }
        for e in service.letters_sent(case)
    ]
    findings = [
        {
            "recorded_at": _t(e.recorded_at),
            "kind": e.kind,
            "source": e.source,
            "sensor": e.sensor or "",
            "room": e.room or "",
            "rule": f"{e.rule or ''} v{e.rule_version or ''}" if e.rule else "",
            "window_start": _t(e.window_start),
            "window_end": _t(e.window_end),
            "figures": json.dumps(e.figures, sort_keys=True),
            "description": e.description or "",
        }
        for e in case.evidence
    ]
    charts = sensors.home_charts(
        context.telemetry,
        session,
        home_id=case.home_id,
        evidence=case.evidence,
        now=now,
        timezone=tz,
        id_prefix="pack",
    )
    readings = [
        {"measure": chart.unit, "sensor": one.label, "at": _t(at), "value": value}
        for chart in charts
        for one in chart.series
        for at, value in one.points
    ]
    orders = repairs_repository.list_work_orders(session, case_id=case.id)
    work_orders = [
        {
            "id": o.id,
            "kind": o.kind,
            "priority": o.priority,
            "contractor": o.contractor.name,
            "raised_at": _t(o.raised_at),
            "target_at": _t(o.target_at),
            "status": o.status,
            "dispatched_at": _t(o.dispatched_at),
            "completed_at": _t(o.completed_at),
            "work_done": o.work_done or "",
            "verification": o.verification,
            "verified_at": _t(o.verified_at),
        }
        for o in orders
    ]
    visits = [
        {
            "work_order": o.id,
            "outcome": v.outcome,
            "booked_for": _t(v.booked_for),
            "at": _t(v.at),
            "method": v.method or "",
            "reason": v.reason or "",
            "recorded_by": v.actor,
        }
        for o in orders
        for v in o.visits
    ]
    checks = audit.verify_entries(session, list(repository.case_audit_entries(session, case)))
    entries = [
        {
            "id": c.entry.id,
            "at": _t(c.entry.at),
            "actor": c.entry.actor,
            "action": c.entry.action,
            "hash": c.entry.hash,
            "prev_hash": c.entry.prev_hash,
            "hash_ok": c.hash_ok,
            "link_ok": c.link_ok,
        }
        for c in checks
    ]
    with context.sessions() as own:  # the whole chain, in a session of its own
        whole = audit.verify(own)
    chain = {
        "case_entries": len(entries),
        "case_entries_ok": all(e["hash_ok"] and e["link_ok"] for e in entries),
        "chain_ok": whole.ok,
        "chain_entries": whole.entries,
        "first_broken_id": whole.first_broken_id,
        "reason": whole.reason,
    }
    investigations = [
        {
            "number": i.number,
            "type": i.type,
            "concluded_at": _t(i.concluded_at),
            "outcome": i.outcome,
            "method": i.method or "",
            "investigator": i.investigator or "",
            "investigator_role": i.investigator_role or "",
            "findings": i.findings or "",
        }
        for i in record["investigations"]
    ]
    return Pack(
        case.id,
        now,
        tz,
        facts,
        clocks,
        timeline,
        letters,
        findings,
        readings,
        charts,
        work_orders,
        visits,
        entries,
        chain,
        investigations,
    )


def _local(at: datetime | None, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M") if at else "-"


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 6, f"Page {self.page_no()}", align="C")


def render_pdf(pack: Pack) -> bytes:
    """The pack as one PDF: sections in the order an investigator reads them."""
    tz = pack.timezone
    pdf = _Pdf(format="A4")
    pdf.set_creation_date(pack.made_at)
    pdf.set_title(f"Case {pack.case_id}: evidence pack")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()

    def h(text: str) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)

    def line(text: str) -> None:
        pdf.multi_cell(0, 4.6, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("Helvetica", "B", 16)
    line(f"Case {pack.case_id}: evidence pack")
    pdf.set_font("Helvetica", "", 9)
    line(f"Made {_local(pack.made_at, tz)} ({tz} time). Times below are {tz} local time.")
    h("The case")
    for label, value in pack.facts:
        line(f"{label}: {value}")
    h("Investigations")
    for i in pack.investigations or []:
        line(
            f"{i['number']}. {i['type']} investigation, {i['method'] or 'method not recorded'}, "
            f"by {i['investigator'] or 'not recorded'} ({i['investigator_role'] or '-'}); "
            f"concluded {_local(datetime.fromisoformat(i['concluded_at']), tz)}: {i['outcome']}. "
            f"{i['findings']}"
        )
    if not pack.investigations:
        line("None concluded.")
    h("Statutory clocks: met or breached")
    for c in pack.clocks:
        done = c["done_or_ended_at"]
        line(
            f"{c['duty']}: started {_local(_dt(c['started_at']), tz)}, due {_local(_dt(c['due_at']), tz)}; "
            f"{c['status'].replace('_', ' ').upper()}"
            + (f", {c['ended']} {_local(_dt(done), tz)}" if done else ", not yet done")
            + (f" ({c['ended_reason']})" if c["ended_reason"] else "")
            + (f". Endeavours: {c['reasonable_endeavours']}" if c["reasonable_endeavours"] else "")
            + (f". Excused by {c['excused_by']}: {c['excuse_reason']}" if c["excused_by"] else "")
        )
    h("Timeline")
    for t in pack.timeline:
        line(
            f"{_local(_dt(t['at']), tz)} - {t['step']} by {t['actor']} (recorded "
            f"{_local(_dt(t['recorded_at']), tz)}){': ' + t['note'] if t['note'] else ''}"
        )
    h("Letters and messages sent")
    for letter in pack.letters:
        line(
            f"Written summary sent {_local(_dt(letter['sent_at']), tz)} by {letter['method']} ({letter['by']}); SHA-256 {letter['sha256']}"
        )
        if letter["text"]:
            pdf.set_font("Courier", "", 8)
            line(letter["text"])
            pdf.set_font("Helvetica", "", 9)
    if not pack.letters:
        line("No letters sent.")
    h("Sensor evidence")
    for f in pack.findings:
        line(
            f"{f['kind']} from {f['source']} {f['sensor']} {f['room']} {f['rule']}: window {f['window_start'] or '-'} to {f['window_end'] or '-'}; figures {f['figures']}"
        )
    for chart in pack.charts:
        _draw_chart(pdf, chart, tz)
    h("Work orders and visits")
    for o in pack.work_orders:
        line(
            f"Work order {o['id']}: {o['kind']} ({o['priority']}) by {o['contractor']}; raised "
            f"{_local(_dt(o['raised_at']), tz)}, target {_local(_dt(o['target_at']), tz)}; {o['status']}"
            + (f", completed {_local(_dt(o['completed_at']), tz)}" if o["completed_at"] else "")
            + f"; verification {o['verification']}"
        )
    for v in pack.visits:
        line(
            f"  visit on work order {v['work_order']}: {v['outcome']} {v['at'] or v['booked_for']} {v['method']} {v['reason']}"
        )
    if not pack.work_orders:
        line("No work orders.")
    h("Audit log: the case's entries re-checked")
    chain = pack.chain
    line(
        f"{chain['case_entries']} entries about this case; each entry's hash and link "
        f"{'check out' if chain['case_entries_ok'] else 'DO NOT all check out'}. The whole log "
        f"({chain['chain_entries']} entries) is "
        + (
            "intact."
            if chain["chain_ok"]
            else f"broken at entry {chain['first_broken_id']}: {chain['reason']}."
        )
    )
    pdf.set_font("Courier", "", 7)
    for e in pack.audit:
        line(
            f"#{e['id']} {e['at']} {e['actor']} {e['action']} hash {e['hash'][:16]} "
            f"{'ok' if e['hash_ok'] and e['link_ok'] else 'FAILED'}"
        )
    return bytes(pdf.output())


def _dt(value: str) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _draw_chart(pdf: FPDF, chart: sensors.Chart, tz: str) -> None:
    """A chart drawn with the PDF's own lines: series, thresholds dashed, local-time ends."""
    points = [p for s in chart.series for p in s.points]
    if not points:
        return
    if pdf.get_y() > 220:
        pdf.add_page()
    x0, y0, w, hgt = 25.0, pdf.get_y() + 8, 165.0, 45.0
    pdf.set_font("Helvetica", "B", 9)
    pdf.multi_cell(0, 5, _latin1(chart.caption), new_x="LMARGIN", new_y="NEXT")
    values = [v for _, v in points] + [t.value for t in chart.thresholds]
    lo, hi = min(values), max(values)
    lo, hi = (lo - 1, hi + 1) if lo == hi else (lo, hi)
    t0, t1 = min(t for t, _ in points), max(t for t, _ in points)
    if chart.window:
        t0, t1 = min(t0, chart.window[0]), max(t1, chart.window[1])
    span = (t1 - t0).total_seconds() or 1.0

    def xy(t: datetime, v: float) -> tuple[float, float]:
        return x0 + w * (t - t0).total_seconds() / span, y0 + hgt - hgt * (v - lo) / (hi - lo)

    pdf.set_draw_color(0, 0, 0)
    pdf.rect(x0, y0, w, hgt)
    pdf.set_font("Helvetica", "", 7)
    pdf.text(x0 - 10, y0 + 3, f"{hi:.0f}")
    pdf.text(x0 - 10, y0 + hgt, f"{lo:.0f}")
    pdf.text(x0, y0 + hgt + 4, _latin1(_local(t0, tz)))
    pdf.text(x0 + w - 30, y0 + hgt + 4, _latin1(_local(t1, tz)))
    colours = ((29, 78, 216), (180, 83, 9), (4, 120, 87), (126, 34, 206), (190, 18, 60))
    for i, one in enumerate(chart.series):
        pdf.set_draw_color(*colours[i % len(colours)])
        pdf.polyline([xy(t, v) for t, v in one.points])
    pdf.set_draw_color(185, 28, 28)
    for threshold in chart.thresholds:
        _, ty = xy(t0, threshold.value)
        pdf.set_dash_pattern(dash=2, gap=1.5)
        pdf.line(x0, ty, x0 + w, ty)
        pdf.set_dash_pattern()
        pdf.text(x0 + w - 45, ty - 1, _latin1(threshold.label))
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(y0 + hgt + 6)
    pdf.set_font("Helvetica", "", 8)
    for i, one in enumerate(chart.series):
        pdf.multi_cell(0, 4, _latin1(f"line {i + 1}: {one.label}"), new_x="LMARGIN", new_y="NEXT")


def render_zip(pack: Pack, pdf: bytes) -> bytes:
    """The pack as data: CSV and JSON per section, letters as text, charts as SVG, the PDF, and a
    manifest of each file's SHA-256."""
    files: dict[str, bytes] = {
        f"case-{pack.case_id}-evidence-pack.pdf": pdf,
        "case.json": json.dumps(
            {
                "facts": dict(pack.facts),
                "investigations": pack.investigations,
                "made_at": _t(pack.made_at),
                "timezone": pack.timezone,
            },
            indent=2,
            ensure_ascii=False,
        ).encode(),
        "clocks.csv": _csv(pack.clocks).encode(),
        "timeline.csv": _csv(pack.timeline).encode(),
        "evidence.csv": _csv(pack.findings).encode(),
        "readings.csv": _csv(pack.readings).encode(),
        "work_orders.csv": _csv(pack.work_orders).encode(),
        "visits.csv": _csv(pack.visits).encode(),
        "audit_entries.csv": _csv(pack.audit).encode(),
        "audit_verification.json": json.dumps(pack.chain, indent=2).encode(),
        "letters.csv": _csv(
            [{k: v for k, v in letter.items() if k != "text"} for letter in pack.letters]
        ).encode(),
    }
    for n, letter in enumerate(pack.letters, start=1):
        files[f"letters/written-summary-{n}.txt"] = letter["text"].encode()
    for n, chart in enumerate(pack.charts, start=1):
        if chart.wide:
            files[
                f"charts/{n}-{chart.unit.replace('%', 'pct').replace(' ', '-').replace('°', 'deg')}.svg"
            ] = chart.wide.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1).encode()
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("MANIFEST.sha256", manifest)
    return out.getvalue()


@router.get("/cases/{case_id}/evidence-pack.pdf")
def evidence_pack_pdf(
    case_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:personal"))],
) -> Response:
    """The case's evidence pack as one PDF."""
    case = repository.get_case(session, case_id)
    if case is None:
        return not_found(request, signed, f"There is no case {case_id}.")
    pack = gather(session, context, case, now=utc_now())
    return Response(
        render_pdf(pack),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-evidence-pack.pdf"'},
    )


@router.get("/cases/{case_id}/evidence-pack.zip")
def evidence_pack_zip(
    case_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:personal"))],
) -> Response:
    """The case's evidence pack as data (with the PDF inside)."""
    case = repository.get_case(session, case_id)
    if case is None:
        return not_found(request, signed, f"There is no case {case_id}.")
    pack = gather(session, context, case, now=utc_now())
    return Response(
        render_zip(pack, render_pdf(pack)),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-evidence-pack.zip"'},
    )
