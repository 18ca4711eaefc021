"""The staff report form and the residents' private link, through the pages."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from compliance.models import Case, Evidence
from registry.models import ReportLink
from tests.integration.notify.pages import jpeg_with_location, make_pages

pytestmark = pytest.mark.integration


@pytest.fixture
def pages(world, tmp_path):
    return make_pages(world, tmp_path)


def staff_form(pages, **changes):
    form = {
        "csrf_token": pages.csrf["officer"],
        "home_id": "H0001",
        "problem": "damp_mould",
        "emergency": "no",
        "channel": "phone",
        "told_at": "",
        "reporter": "tenant",
        "reporter_name": "Ms Tenant",
        "description": "Black mould on the bedroom wall since October",
    }
    form.update(changes)
    return form


def local(world, hours_ago=2):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    return (
        (world.now - timedelta(hours=hours_ago))
        .astimezone(ZoneInfo("Europe/London"))
        .strftime("%Y-%m-%dT%H:%M")
    )


def test_an_officer_finds_the_home_by_postcode_and_records_a_phone_report(world, pages):
    officer = pages.client("officer")
    found = officer.get("/reports/new", params={"q": "m1 1ae"})
    assert found.status_code == 200
    assert "/reports/new?home=H0001" in found.text
    assert "H0002" not in found.text  # M2 1AE is another postcode
    assert (
        'href="/reports/new?home=H0001"'
        in officer.get("/reports/new", params={"q": "Mill Court"}).text
    )
    assert "H0003" in officer.get("/reports/new", params={"q": "100000003"}).text  # UPRN
    form = officer.get("/reports/new", params={"home": "H0001"})
    assert "Tenant 1" in form.text
    assert "Is anyone hurt" in form.text
    answer = officer.post(
        "/reports/new",
        data=staff_form(pages, told_at=local(world)),
        files=[("photo", ("wall.jpg", jpeg_with_location(), "image/jpeg"))],
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    # The notice travels in the session's flash cookie, never in the address (content spoofing).
    assert re.fullmatch(r"/cases/\d+", location)
    notice = officer.get(location).text
    assert re.search(r"Report R-\w+", notice)
    assert "investigate clock runs to" in notice
    case_id = int(location.split("/")[2])
    with world.sessions() as session:
        case = session.get(Case, case_id)
        assert (case.source, case.hazard, case.category) == (
            "tenant",
            "damp_and_mould",
            "potential",
        )
        [evidence] = case.evidence
        assert evidence.figures["channel"] == "phone"
        assert evidence.figures["reporter_name"] == "Ms Tenant"
        assert evidence.figures["reported_at"] == case.aware_at.isoformat().replace("+00:00", "Z")
        [photo] = evidence.figures["photos"]
    stored = world.files.get(photo["key"])
    assert b"PhoneMaker" not in stored
    assert b"SecretCam" not in stored
    image = Image.open(io.BytesIO(stored))
    assert len(image.getexif()) == 0
    assert image.size == (48, 64)  # turned upright before the orientation tag was dropped
    page = officer.get(f"/cases/{case_id}")
    assert f"/cases/{case_id}/photos/{photo['key']}" in page.text
    assert officer.get(f"/cases/{case_id}/photos/{photo['key']}").content == stored
    assert pages.client("viewer").get(f"/cases/{case_id}/photos/{photo['key']}").status_code == 403
    world.worker().run_once()
    [mail] = world.smtp.wait_for(1)
    assert mail["Subject"].startswith("We have your report (R-")
    assert "Report acknowledgement" not in officer.get(f"/cases/{case_id}").text
    assert "Report received" in officer.get(f"/cases/{case_id}").text


def test_a_form_with_mistakes_comes_back_with_everything_typed_and_good_photos_kept(world, pages):
    officer = pages.client("officer")
    answer = officer.post(
        "/reports/new",
        data=staff_form(pages, emergency="", told_at="2099-01-01T10:00"),
        files=[
            ("photo", ("wall.jpg", jpeg_with_location(), "image/jpeg")),
            ("photo", ("notes.jpg", b"this is not a picture", "image/jpeg")),
        ],
    )
    assert answer.status_code == 422
    assert "Say whether it is a potential emergency" in answer.text
    assert "cannot be in the future" in answer.text
    assert "notes.jpg is not a picture we can open" in answer.text
    assert "Black mould on the bedroom wall since October" in answer.text
    kept = re.findall(r'name="kept_photo" value="([0-9a-f]{32}\.jpg)"', answer.text)
    assert len(kept) == 1
    with world.sessions() as session:
        assert session.scalar(select(Case.id)) is None
    again = officer.post(
        "/reports/new",
        data={**staff_form(pages, emergency="yes", told_at=local(world)), "kept_photo": kept},
    )
    assert again.status_code == 303
    assert "emergency action clock runs to" in officer.get(again.headers["location"]).text
    with world.sessions() as session:
        [evidence] = session.scalars(select(Evidence)).all()
        assert [p["key"] for p in evidence.figures["photos"]] == kept


def issue_link(pages, home="H0001") -> str:
    officer = pages.client("officer")
    card = officer.post(f"/homes/{home}/report-link", data={"csrf_token": pages.csrf["officer"]})
    assert card.status_code == 200, card.text
    assert "<svg" in card.text
    assert 'aria-label="QR code' in card.text
    return re.search(r"https://homesafe\.landlord\.example/r/([A-Za-z0-9_-]+)", card.text).group(1)


def resident_form(**changes):
    form = {
        "problem": "damp_mould",
        "room": "bedroom",
        "where": "behind the wardrobe",
        "what": "Black mould and a musty smell",
        "at_risk": "no",
        "contact": "email",
        "email": "resident@example.net",
        "phone": "",
        "language": "en",
        "name": "",
    }
    form.update(changes)
    return form


def test_a_resident_reports_through_the_private_link_and_learns_nothing_else(world, pages):
    secret = issue_link(pages)
    with world.sessions() as session:
        [link] = session.scalars(select(ReportLink)).all()
        assert secret not in link.secret_hash
        assert len(link.secret_hash) == 64
    resident = pages.client()
    form = resident.get(f"/r/{secret}")
    assert form.status_code == 200
    for secret_fact in ("Mill Court", "H0001", "M1 1AE", "Tenant 1", "case"):
        assert secret_fact not in form.text
    thanks = resident.post(
        f"/r/{secret}",
        data=resident_form(at_risk="yes"),
        files=[("photo", ("mould.jpg", jpeg_with_location(), "image/jpeg"))],
    )
    assert thanks.status_code == 200, thanks.text
    reference = re.search(r"R-[A-Z2-9]{8}", thanks.text).group(0)
    for secret_fact in ("Mill Court", "H0001", "Case", "case "):
        assert secret_fact not in thanks.text
    with world.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert (case.home_id, case.source, case.category) == ("H0001", "tenant", "emergency")
        figures = case.evidence[0].figures
        assert figures["channel"] == "web"
        assert figures["reference"] == reference
        assert figures["contact"] == {"language": "en", "email": "resident@example.net"}
        assert "Bedroom (behind the wardrobe): Black mould" in case.evidence[0].description
    assert f"Case {case.id}" in pages.client("officer").get("/queue").text
    world.worker().run_once()
    mails = world.smtp.wait_for(2)
    ack = next(m for m in mails if m["To"] == "resident@example.net")
    assert reference in ack["Subject"]
    # A second report joins the case; the acknowledgement still says nothing about it.
    again = resident.post(f"/r/{secret}", data=resident_form())
    assert again.status_code == 200
    assert "Case" not in again.text
    # Re-issuing stops the old link; an unknown link looks the same.
    new_secret = issue_link(pages)
    gone = resident.get(f"/r/{secret}")
    assert gone.status_code == 404
    assert "does not work" in gone.text
    assert resident.get("/r/not-a-real-link").text == gone.text
    assert resident.get(f"/r/{new_secret}").status_code == 200
    revoked = pages.client("officer").post(
        "/homes/H0001/report-link/revoke", data={"csrf_token": pages.csrf["officer"]}
    )
    assert revoked.status_code == 303
    assert resident.get(f"/r/{new_secret}").status_code == 404


def test_the_resident_form_is_rate_limited_and_loses_nothing(world, pages):
    from api.pages.resident import LINK_LIMIT

    secret = issue_link(pages)
    resident = pages.client()
    bad = resident.post(
        f"/r/{secret}",
        data=resident_form(at_risk="", what="Water through the ceiling"),
        files=[("photo", ("x.png", b"\x89PNG\r\n\x1a\nbroken", "image/png"))],
    )
    assert bad.status_code == 422
    assert "anyone is at risk now" in bad.text
    assert "x.png is" in bad.text
    assert "Water through the ceiling" in bad.text
    for _ in range(LINK_LIMIT):
        assert resident.post(f"/r/{secret}", data=resident_form()).status_code == 200
    limited = resident.post(f"/r/{secret}", data=resident_form(what="One more thing"))
    assert limited.status_code == 429
    assert "Too many reports" in limited.text
    assert "One more thing" in limited.text
    with world.sessions() as session:
        assert len(session.scalars(select(Evidence)).all()) == LINK_LIMIT
