"""A signed-in page client over the notify world (cookie sessions of each role, CSRF tokens)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from api.app import create_app
from api.auth import add_user
from api.deps import AppContext
from api.models import User
from api.session import COOKIE_NAME, start_session
from homesafe.bootstrap import delivery_hooks
from ingest.store import open_telemetry_store
from registry.clock import utc_now

PASSWORD = "correct horse battery staple"


@dataclass
class Pages:
    app: object
    context: AppContext
    csrf: dict[str, str]
    cookies: dict[str, str]

    def client(self, role: str | None = None) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]
        if role is not None:
            client.cookies.set(COOKIE_NAME, self.cookies[role])
        return client


def make_pages(world, tmp_path) -> Pages:
    context = AppContext(
        sessions=world.sessions,
        telemetry=open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry-pages.db'}"),
        engine=world.engine,
        channels=world.channels,
        files=world.files,
        notify_hooks=delivery_hooks(world.engine),
        clock=lambda: world.now,
    )
    csrf, cookies = {}, {}
    with world.sessions.begin() as session:
        for role in ("officer", "viewer", "admin"):
            if session.scalars(select(User).where(User.name == role)).first() is None:
                add_user(session, name=role, role=role, now=world.now, password=PASSWORD)
            user = session.scalars(select(User).where(User.name == role)).one()
            cookie, signed = start_session(session, user=user, now=utc_now())
            cookies[role], csrf[role] = cookie, signed.csrf_token
    return Pages(create_app(context), context, csrf, cookies)


def jpeg_with_location() -> bytes:
    """A photo as a phone takes it: EXIF with the camera and a GPS position."""
    image = Image.new("RGB", (64, 48), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "SecretCam 9"  # Model
    exif[0x0112] = 6  # orientation: rotate 90° to be upright
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (53.0, 28.0, 51.0)
    gps[3] = "W"
    gps[4] = (2.0, 14.0, 40.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
