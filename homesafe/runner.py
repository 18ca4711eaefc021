"""`homesafe run`: the whole system in one process on its embedded defaults."""

from __future__ import annotations

import csv
import io
import logging
import secrets
import threading
from pathlib import Path

from sqlalchemy import select

from api.app import create_app
from api.auth import add_user, create_token
from api.models import User
from compliance.reporting import safe_cell
from homesafe import bootstrap, migrate
from homesafe.embedded_broker import EmbeddedBroker
from homesafe.lifecycle import HttpServer, leave_now, stop_on_signals
from homesafe.scheduler import make_scheduler
from homesafe.settings import VAR_DIR, Settings
from ingest.subscriber import MqttIngest, parse_mqtt_url
from registry.clock import utc_now
from registry.schemas import HOMES_COLUMNS, HOUSEHOLDS_COLUMNS
from registry.service import import_registry

log = logging.getLogger(__name__)

DEMO_USER = "demo"
DEMO_HOMES = 4


def _csv(rows: list[dict[str, object]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(
        {key: safe_cell(value) if isinstance(value, str) else value for key, value in row.items()}
        for row in rows
    )
    return out.getvalue()


def _demo_token(services: bootstrap.Services) -> str:
    """An admin token for the person trying Homesafe out; written to var/demo-token.txt."""
    now = utc_now()
    with services.sessions.begin() as session:
        if session.scalars(select(User).where(User.name == DEMO_USER)).first() is None:
            add_user(session, name=DEMO_USER, role="admin", now=now)
        token = create_token(session, name=DEMO_USER, now=now)
    path = VAR_DIR / "demo-token.txt"
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def _demo_people(services: bootstrap.Services) -> str:
    """A person of each role for the pages (demo-officer, ...; the admin is `demo`), one password.

    The password is new on every start, printed once and written to var/demo-password.txt (0600).
    """
    from api.auth import ROLES, set_password

    password = secrets.token_urlsafe(12)
    now = utc_now()
    with services.sessions.begin() as session:
        for role in ROLES:
            name = DEMO_USER if role == "admin" else f"{DEMO_USER}-{role}"
            if session.scalars(select(User).where(User.name == name)).first() is None:
                add_user(session, name=name, role=role, now=now)
            set_password(session, name=name, password=password)
    path = VAR_DIR / "demo-password.txt"
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def run(settings: Settings, *, host: str, port: int, simulate: bool) -> int:
    """Start broker, ingest, scheduler (detectors and clocks), API and demo fleet; serve until stopped.

    On SIGTERM or SIGINT (docs/operations.md, "Stopping"): the pages and API stop taking requests,
    the demo fleet and the scheduler stop, the embedded broker closes (it acknowledged gateways'
    messages itself, so nothing more may come in), and ingest writes every reading it holds
    before the process exits with status 0.
    """
    stop = stop_on_signals()
    Path(VAR_DIR).mkdir(parents=True, exist_ok=True)
    services = bootstrap.build(settings)
    migrate.upgrade(services.db)
    broker: EmbeddedBroker | None = None
    if settings.mqtt_url is None:
        broker = EmbeddedBroker()
        broker.start()
        mqtt_host, mqtt_port, username, password, tls = "127.0.0.1", broker.port, None, None, False
        protocol = "3.1.1"
    else:
        mqtt_host, mqtt_port, username, password, tls = parse_mqtt_url(settings.mqtt_url)
        protocol = settings.mqtt_protocol
    if simulate:
        from firmware_sim.demo import demo_registry_rows, start_demo_fleet

        homes, households = demo_registry_rows(DEMO_HOMES, 1)
        with services.sessions.begin() as session:
            import_registry(
                session,
                homes_text=_csv(homes, HOMES_COLUMNS),
                households_text=_csv(households, HOUSEHOLDS_COLUMNS),
            )
    ingest = MqttIngest(
        bootstrap.ingest_service(services),
        host=mqtt_host,
        port=mqtt_port,
        username=username,
        password=password,
        tls=tls,
        protocol=protocol,
        client_id="homesafe-run-ingest",
    )
    ingest.start()
    scheduler = make_scheduler(services, sweep_interval_s=30, detect_interval_s=20)
    scheduler.start()
    fleet_stop = threading.Event()
    fleet: threading.Thread | None = None
    if simulate:
        fleet = start_demo_fleet(
            mqtt_host,
            mqtt_port,
            homes=DEMO_HOMES,
            seed=1,
            stop=fleet_stop,
            protocol=protocol,
            gateway_key=settings.gateway_key,
        )
    token = _demo_token(services)
    password = _demo_people(services)
    print(
        f"Homesafe is up: http://{host}:{port}/ (pages) and http://{host}:{port}/api/v1/health\n"
        f"  sign in as demo (admin), demo-officer, demo-compliance, demo-analyst or demo-viewer\n"
        f"  with the password {password} (also in {VAR_DIR}/demo-password.txt)\n"
        f"  MQTT broker: mqtt://{mqtt_host}:{mqtt_port}\n"
        f"  admin token (also in {VAR_DIR}/demo-token.txt):\n    {token}\n"
        f"  try: curl -H 'Authorization: Bearer {token}' http://{host}:{port}/api/v1/cases",
        flush=True,
    )
    server = HttpServer(
        create_app(bootstrap.app_context(services)), host=host, port=port, log_level="warning"
    )
    served = False
    try:
        served = server.serve_until(stop)
    finally:
        fleet_stop.set()
        if fleet is not None:
            fleet.join(2.0)
        jobs_done = scheduler.stop()
        if broker is not None:
            broker.stop()
        ingest.stop()
        if not jobs_done:
            log.warning("a scheduler job was still running; leaving (its transaction rolls back)")
            leave_now(0)
        services.close()
    log.info("stopped")
    return 0 if served else 1
