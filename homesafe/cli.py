"""`homesafe`: one program, a subcommand per service or task (contract section 4)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from homesafe.settings import Settings

if TYPE_CHECKING:
    from homesafe.backup import Targets
    from homesafe.bootstrap import Services


class UsageError(Exception):
    """Bad arguments or settings: exit 2 with one line saying which and why."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HOMESAFE_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise UsageError(f"bad setting {name}: {first['msg']}") from None


def _services(
    settings: Settings, *, migrate_first: bool = False, compliance: bool = True
) -> Services:
    """The process's services on a case database at the newest schema.

    A fresh or older embedded (SQLite) database is upgraded on the spot, as `homesafe run` does;
    a PostgreSQL one is migrated only on purpose (`homesafe db upgrade`, the compose `migrate`
    service), so several replicas never race to migrate it: a command finding it behind says so.
    """
    from homesafe import bootstrap, migrate

    services = bootstrap.build(settings, compliance=compliance)
    try:
        if migrate_first:
            migrate.upgrade(services.db)
        elif migrate.schema_is_current(services.db):
            pass
        elif services.db.dialect.name == "sqlite":
            migrate.upgrade(services.db)
        else:
            raise UsageError(
                "the case database is not at the newest schema: run `homesafe db upgrade`"
            )
    except BaseException:
        services.close()
        raise
    return services


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from homesafe.runner import run

    return run(settings, host=args.host, port=args.port, simulate=not args.no_sim)


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from api.app import create_app
    from homesafe import bootstrap
    from homesafe.lifecycle import HttpServer, stop_on_signals

    services = _services(settings)
    try:
        app = create_app(bootstrap.app_context(services))
        server = HttpServer(
            app, host=args.host, port=args.port, trusted_proxies=settings.trusted_proxies
        )
        return 0 if server.serve_until(stop_on_signals()) else 1
    finally:
        services.close()


def start_metrics(port: int, host: str) -> Any:
    """Prometheus /metrics on host:port (HOMESAFE_METRICS_HOST, loopback by default); the server."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host)
    return server


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    import socket

    from homesafe import bootstrap
    from homesafe.lifecycle import stop_on_signals
    from ingest.subscriber import MqttIngest, parse_mqtt_url

    if settings.mqtt_url is None:
        raise UsageError("homesafe ingest: HOMESAFE_MQTT_URL must name the broker")
    if args.log_json or settings.log_format == "json":
        from ingest.logs import use_json_logs

        use_json_logs()
    host, port, username, password, tls = parse_mqtt_url(settings.mqtt_url)
    metrics_port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    default_id = "homesafe-ingest" + (f"-{socket.gethostname()}" if args.shared else "")
    client_id = args.client_id or default_id
    spool_dir = Path(args.spool_dir or settings.spool_dir or f"var/spool/{client_id}")
    spool_max_bytes = settings.spool_max_bytes

    def serve(client_id: str, spool_dir: Path, metrics_port: int, shared: bool) -> None:
        stop = stop_on_signals()  # in this process: the only one, or a forked worker
        services = _services(settings, compliance=False)
        if metrics_port:
            start_metrics(metrics_port, settings.metrics_host)
        ingest = MqttIngest(
            bootstrap.ingest_service(
                services, spool_dir=spool_dir, spool_max_bytes=spool_max_bytes
            ),
            host=host,
            port=port,
            username=username,
            password=password,
            tls=tls,
            protocol=settings.mqtt_protocol,
            shared=shared,
            client_id=client_id,
        )
        ingest.start()
        try:
            stop.wait()
        finally:
            ingest.stop()
            services.close()

    workers = args.workers if args.workers is not None else settings.ingest_workers
    if workers < 1:
        raise UsageError("homesafe ingest: --workers must be 1 or more")
    if workers == 1:
        serve(client_id, spool_dir, metrics_port, args.shared)
        return 0
    _services(settings).close()  # a database behind its schema stops here, not in N children
    # N processes on one $share/ subscription, each its own session, spool and metrics port.
    from ingest.workers import run_workers, worker_slots

    stop = stop_on_signals()
    slots = worker_slots(
        workers, client_id=client_id, spool_dir=spool_dir, metrics_port=metrics_port
    )
    run_workers(
        slots,
        lambda slot: serve(slot.client_id, slot.spool_dir, slot.metrics_port, True),
        stop=stop,
    )
    return 0


def cmd_broker_config(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.broker_config import skipped_gateways, write_broker_config
    from ingest.subscriber import parse_mqtt_url
    from registry import repository as registry

    if not settings.gateway_key:
        raise UsageError("homesafe broker-config: HOMESAFE_GATEWAY_KEY is not set")
    ingest_user = ingest_password = None
    if settings.mqtt_url is not None:
        _, _, ingest_user, ingest_password, _ = parse_mqtt_url(settings.mqtt_url)
    services = _services(settings, migrate_first=True)
    try:
        with services.sessions() as session:
            gateway_ids = list(registry.gateway_homes(session))
        count = write_broker_config(
            gateway_ids=gateway_ids,
            gateway_key=settings.gateway_key,
            password_file=Path(args.password_file),
            acl_file=Path(args.acl_file),
            ingest_user=ingest_user,
            ingest_password=ingest_password,
            ingest_password_file=Path(args.ingest_password_file)
            if args.ingest_password_file
            else None,
            ingest_acl_file=Path(args.ingest_acl_file) if args.ingest_acl_file else None,
        )
    except ValueError as exc:
        raise UsageError(f"homesafe broker-config: {exc}") from None
    finally:
        services.close()
    who = f" and ingest user {ingest_user}" if ingest_user and ingest_password else ""
    if args.ingest_password_file:
        who = (
            f"; ingest user {ingest_user} in {args.ingest_password_file} and {args.ingest_acl_file}"
        )
    print(f"wrote {args.password_file} and {args.acl_file}: {count} gateway(s){who}")
    for gateway_id in skipped_gateways(gateway_ids):
        print(
            f"skipped gateway {gateway_id}: ids beginning 'homesafe-' are kept for Homesafe's own "
            "MQTT clients; register it under another id",
            file=sys.stderr,
        )
    return 0


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    from homesafe import bootstrap
    from homesafe.lifecycle import stop_on_signals
    from homesafe.scheduler import make_scheduler, run_until
    from registry.clock import utc_now

    services = _services(settings)
    try:
        if args.once:
            found = bootstrap.detect_once(services, now=utc_now())
            print(f"{found} finding(s)")
            return 0
        stop = stop_on_signals()
        return run_until(make_scheduler(services, sweep=False), stop, "detectors")
    finally:
        services.close()


def cmd_scheduler(_args: argparse.Namespace, settings: Settings) -> int:
    from homesafe.lifecycle import stop_on_signals
    from homesafe.scheduler import make_scheduler, run_until

    services = _services(settings)
    if settings.scheduler_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.scheduler_metrics_port)
    try:
        stop = stop_on_signals()
        return run_until(make_scheduler(services, detect=False), stop, "scheduler")
    finally:
        services.close()


def cmd_notify(args: argparse.Namespace, settings: Settings) -> int:
    """The notification worker alone: fan out the outbox and send, until stopped (or --once)."""
    from homesafe import bootstrap

    services = _services(settings)
    worker = bootstrap.notify_worker(services, name=args.name)
    worker.release_own_claims()
    from homesafe.lifecycle import stop_on_signals

    stop = stop_on_signals()
    try:
        while True:
            worker.run_once()
            if args.once or stop.wait(settings.notify_interval_s):
                return 0
    finally:
        services.close()


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from firmware_sim import cli as sim

    mqtt_url = args.mqtt or settings.mqtt_url
    if mqtt_url is None:
        raise UsageError("homesafe simulate: give --mqtt or HOMESAFE_MQTT_URL")
    return sim.run(args, mqtt_url=mqtt_url)


def cmd_registry_import(args: argparse.Namespace, settings: Settings) -> int:
    from registry.service import RegistryImportError, import_files

    services = _services(settings)
    try:
        with services.sessions.begin() as session:
            summary = import_files(session, [Path(name) for name in args.files])
    except RegistryImportError as exc:
        for error in exc.errors:
            print(str(error), file=sys.stderr)
        print(f"homesafe registry import: {exc}", file=sys.stderr)
        return 1
    print(
        f"imported {summary.homes} home(s), {summary.gateways} gateway(s), "
        f"{summary.sensors} sensor(s), {summary.households} household(s), "
        f"{summary.tenancies} tenancy(ies)"
    )
    return 0


def _read_password(prog: str) -> str:
    """A new password: asked twice at a terminal, else the first line of standard input."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError(f"{prog}: the two passwords differ")
        return password
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError(f"{prog}: give the password on standard input")
    return password


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth import add_user
    from registry.clock import utc_now

    password = _read_password("homesafe users add") if args.password else None
    services = _services(settings)
    try:
        with services.sessions.begin() as session:
            user = add_user(
                session, name=args.name, role=args.role, now=utc_now(), password=password
            )
    except ValueError as exc:
        raise UsageError(f"homesafe users add: {exc}") from None
    print(f"added {user.name} ({user.role}){' with a password' if password else ''}")
    return 0


def cmd_users_passwd(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth import UnknownUser, set_password

    password = _read_password("homesafe users passwd")
    services = _services(settings)
    try:
        with services.sessions.begin() as session:
            set_password(session, name=args.name, password=password)
    except (UnknownUser, ValueError) as exc:
        raise UsageError(f"homesafe users passwd: {exc}") from None
    print(f"password set for {args.name}")
    return 0


def cmd_registry_erase_ended(args: argparse.Namespace, settings: Settings) -> int:
    """Erase the special-category data of households whose tenancies have all ended."""
    from homesafe.erasure import erase_ended_households, households_to_erase
    from registry.clock import utc_now

    services = _services(settings)
    now = utc_now()
    today = services.compliance.calendar.local_date(now)
    with services.sessions.begin() as session:
        if args.dry_run:
            for home_id in households_to_erase(session, today=today):
                print(f"would erase {home_id}")
            return 0
        for home_id in erase_ended_households(session, today=today, now=now):
            print(f"erased {home_id}")
    return 0


def cmd_registry_erase_household(args: argparse.Namespace, settings: Settings) -> int:
    """Erase one household's special-category data on request."""
    from homesafe.erasure import erase_household
    from registry.clock import utc_now

    services = _services(settings)
    with services.sessions.begin() as session:
        done = erase_household(
            session,
            home_id=args.home_id,
            now=utc_now(),
            actor=args.actor,
            reason=args.reason,
        )
    print(f"erased {args.home_id}" if done else f"{args.home_id}: no household record")
    return 0


def cmd_users_disable(args: argparse.Namespace, settings: Settings) -> int:
    """Disable (or, as `users enable`, enable) a person: sessions end, tokens stop working."""
    from api.auth import UnknownUser, set_disabled
    from registry.clock import utc_now

    services = _services(settings)
    try:
        with services.sessions.begin() as session:
            set_disabled(session, name=args.name, disabled=args.disable, now=utc_now())
    except UnknownUser as exc:
        raise UsageError(f"homesafe users: {exc}") from None
    print(f"{args.name} {'disabled' if args.disable else 'enabled'}")
    return 0


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from api.auth import UnknownUser, create_token
    from registry.clock import utc_now

    services = _services(settings)
    try:
        with services.sessions.begin() as session:
            token = create_token(
                session, name=args.name, now=utc_now(), lifetime=timedelta(days=args.days)
            )
    except (UnknownUser, ValueError) as exc:
        raise UsageError(f"homesafe tokens create: {exc}") from None
    print(token)
    return 0


def cmd_tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth import token_expiry, tokens
    from registry.clock import to_rfc3339, utc_now

    services = _services(settings)
    now = utc_now()
    with services.sessions() as session:
        for row, owner in tokens(session, name=args.name):
            state = (
                f"revoked {to_rfc3339(row.revoked_at)}"
                if row.revoked_at
                else "expired"
                if token_expiry(row) <= now
                else "live"
            )
            print(
                f"{row.prefix}…  {owner}  created {to_rfc3339(row.created_at)}  "
                f"expires {to_rfc3339(token_expiry(row))}  {state}"
            )
    return 0


def cmd_tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth import UnknownToken, revoke_token
    from registry.clock import utc_now

    services = _services(settings)
    try:
        with services.sessions.begin() as session:
            row = revoke_token(session, prefix=args.prefix, now=utc_now())
            prefix = row.prefix
    except UnknownToken as exc:
        raise UsageError(f"homesafe tokens revoke: {exc}") from None
    print(f"revoked {prefix}…")
    return 0


def cmd_audit_verify(_args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0: intact (anchored to signed checkpoints); 1: broken; 3: consistent but unproven."""
    from compliance.audit import verify

    services = _services(settings)
    with services.sessions() as session:
        result = verify(session, key=settings.audit_key)
    if not result.ok:
        print(f"audit log broken at entry {result.first_broken_id}: {result.reason}")
        return 1
    if result.verdict == "intact":
        print(
            f"audit log intact: {result.entries} entries, {result.checkpoints} checkpoint(s) "
            "with valid signatures"
        )
    else:
        print(
            f"audit log consistent but not proven: {result.entries} entries, "
            f"{result.checkpoints} checkpoint(s)"
        )
    for line in result.proven:
        print(f"  proven: {line}")
    for line in result.not_proven:
        print(f"  not proven: {line}")
    return 0 if result.verdict == "intact" else 3


def cmd_export_damp_and_mould(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from interop import data_model
    from interop.service import InteropRefused, export_damp_and_mould, period_bounds
    from registry.clock import utc_now

    services = _services(settings)
    try:
        start, end = period_bounds(args.start, args.end, settings.timezone)
        with services.sessions() as session:
            document = export_damp_and_mould(
                session,
                component=args.component,
                start=start,
                end=end,
                now=utc_now(),
                engine=services.compliance,
                personal=args.personal,
            )
    except InteropRefused as exc:
        raise UsageError(f"homesafe export damp-and-mould: {exc.reason}") from None
    finally:
        services.close()
    if args.validate:
        errors = data_model.errors(args.component, document)
        if errors:
            for error in errors:
                print(error, file=sys.stderr)
            print(
                f"homesafe export damp-and-mould: {len(errors)} schema error(s); nothing written",
                file=sys.stderr,
            )
            return 1
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    return 0


def cmd_export_tsm(args: argparse.Namespace, settings: Settings) -> int:
    from interop.service import InteropRefused, tsm_csv

    services = _services(settings)
    try:
        with services.sessions() as session:
            sys.stdout.write(tsm_csv(session, year=args.year, engine=services.compliance))
    except InteropRefused as exc:
        raise UsageError(f"homesafe export tsm: {exc.reason}") from None
    finally:
        services.close()
    return 0


def cmd_work_orders_import(args: argparse.Namespace, settings: Settings) -> int:
    from interop.service import UpdatesRefused, apply_updates, parse_updates_csv
    from registry.clock import utc_now

    path = Path(args.file)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"homesafe work-orders import: cannot read {path}: {exc}") from None
    services = _services(settings)
    try:
        system, updates, bad_lines = parse_updates_csv(text, allocated_by=args.allocated_by)
        with services.sessions.begin() as session:
            result = apply_updates(
                session,
                allocated_by=system,
                updates=updates,
                actor=args.actor,
                now=utc_now(),
                engine=services.compliance,
                known_errors=bad_lines,
            )
    except UpdatesRefused as exc:
        for error in exc.errors:
            print(f"{path.name}:{error.line}: {error.reason}", file=sys.stderr)
        print(f"homesafe work-orders import: {exc}", file=sys.stderr)
        return 1
    finally:
        services.close()
    print(f"applied {result.applied} update(s) to {len(result.work_orders)} work order(s)")
    return 0


def cmd_import_damp_and_mould(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from interop.importer import ImportRefused, import_documents
    from registry.clock import utc_now

    documents = []
    for name in args.files:
        try:
            documents.append(json.loads(Path(name).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise UsageError(f"homesafe import damp-and-mould: cannot read {name}: {exc}") from None
    services = _services(settings, migrate_first=True)
    try:
        with services.sessions.begin() as session:
            summary = import_documents(
                session, documents=documents, engine=services.compliance, now=utc_now()
            )
    except ImportRefused as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"homesafe import damp-and-mould: {exc}", file=sys.stderr)
        return 1
    finally:
        services.close()
    print(f"imported {summary}")
    return 0


def _backup_targets(settings: Settings) -> Targets:
    from homesafe.backup import Targets

    return Targets(
        database_url=settings.database_url,
        telemetry_url=settings.telemetry_url,
        influx_rpc_address=settings.influx_rpc_address,
    )


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from homesafe.backup import BackupError, BackupRefused, backup
    from registry.clock import utc_now

    try:
        manifest = backup(_backup_targets(settings), Path(args.directory), now=utc_now())
    except BackupRefused as exc:
        raise UsageError(f"homesafe backup: {exc}") from None
    except BackupError as exc:
        print(f"homesafe backup: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up the {manifest['database']['kind']} case database and the "
        f"{manifest['telemetry']['kind']} telemetry store to {args.directory}"
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from homesafe.backup import BackupError, BackupRefused, restore

    try:
        manifest = restore(_backup_targets(settings), Path(args.directory))
    except BackupRefused as exc:
        raise UsageError(f"homesafe restore: {exc}") from None
    except BackupError as exc:
        print(f"homesafe restore: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored the backup of {manifest['created_at']} from {args.directory}; "
        "check it with `homesafe audit verify`"
    )
    return 0


def cmd_db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    _services(settings, migrate_first=True)
    print("database is at the newest schema")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from api.auth import ROLES

    parser = _Parser(prog="homesafe", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("HOMESAFE_LOG_LEVEL", "INFO"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="the whole system in one process, embedded defaults")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--no-sim", action="store_true", help="no simulated fleet")
    run.set_defaults(handler=cmd_run)

    api = commands.add_parser("api", help="the HTTP API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.set_defaults(handler=cmd_api)

    ingest = commands.add_parser("ingest", help="MQTT → telemetry store")
    ingest.add_argument(
        "--shared", action="store_true", help="join $share/ingest/… with other workers"
    )
    ingest.add_argument("--client-id", default=None, help="fixed MQTT client id (session)")
    ingest.add_argument("--spool-dir", default=None, help="on-disk spool (HOMESAFE_SPOOL_DIR)")
    ingest.add_argument(
        "--metrics-port", type=int, default=None, help="Prometheus port (HOMESAFE_METRICS_PORT)"
    )
    ingest.add_argument("--log-json", action="store_true", help="JSON log lines")
    ingest.add_argument(
        "--workers",
        type=int,
        default=None,
        help="N processes on one $share/ subscription (HOMESAFE_INGEST_WORKERS; implies --shared)",
    )
    ingest.set_defaults(handler=cmd_ingest)

    broker_config = commands.add_parser(
        "broker-config", help="Mosquitto password file and ACL for every gateway"
    )
    broker_config.add_argument("--password-file", required=True)
    broker_config.add_argument("--acl-file", required=True)
    broker_config.add_argument(
        "--ingest-password-file",
        default=None,
        help="ingest's own password file (its own listener); with --ingest-acl-file",
    )
    broker_config.add_argument("--ingest-acl-file", default=None, help="ingest's own ACL")
    broker_config.set_defaults(handler=cmd_broker_config)

    detect = commands.add_parser("detect", help="the detectors, on a schedule or --once")
    detect.add_argument("--once", action="store_true")
    detect.set_defaults(handler=cmd_detect)

    commands.add_parser("scheduler", help="clock sweeps: warnings and breaches").set_defaults(
        handler=cmd_scheduler
    )

    notify = commands.add_parser(
        "notify", help="the notification worker alone (the scheduler runs it too)"
    )
    notify.add_argument("--once", action="store_true", help="one run, then exit")
    notify.add_argument(
        "--name", default=None, help="the worker's name (HOMESAFE_NOTIFY_WORKER; default host name)"
    )
    notify.set_defaults(handler=cmd_notify)

    simulate = commands.add_parser("simulate", help="simulated gateways publishing to a broker")
    from firmware_sim import cli as sim

    sim.add_arguments(simulate)
    simulate.add_argument("--mqtt", default=None, help="broker URL (else HOMESAFE_MQTT_URL)")
    simulate.set_defaults(handler=cmd_simulate)

    registry = commands.add_parser("registry", help="the registry of homes, gateways, sensors")
    registry_commands = registry.add_subparsers(
        dest="registry_command", required=True, parser_class=_Parser
    )
    registry_import = registry_commands.add_parser(
        "import", help="import homes.csv [households.csv] [tenancies.csv]"
    )
    registry_import.add_argument(
        "files",
        nargs="+",
        metavar="FILE.csv",
        help="homes.csv, households.csv, tenancies.csv (each recognised by its header row)",
    )
    registry_import.set_defaults(handler=cmd_registry_import)

    erase_ended = registry_commands.add_parser(
        "erase-ended",
        help="erase the special-category data of households whose tenancies have all ended",
    )
    erase_ended.add_argument("--dry-run", action="store_true", help="only list the homes")
    erase_ended.set_defaults(handler=cmd_registry_erase_ended)
    erase_one = registry_commands.add_parser(
        "erase-household", help="erase one household's special-category data on request"
    )
    erase_one.add_argument("home_id")
    erase_one.add_argument("--actor", default="admin", help="who asked (for the audit log)")
    erase_one.add_argument("--reason", default="erasure on request", help="why (audit log)")
    erase_one.set_defaults(handler=cmd_registry_erase_household)

    users = commands.add_parser("users", help="people")
    users_commands = users.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    users_add = users_commands.add_parser("add", help="add a person with a role")
    users_add.add_argument("name")
    users_add.add_argument("--role", required=True, choices=ROLES)
    users_add.add_argument(
        "--password",
        action="store_true",
        help="set a password to sign in to the pages (asked for, or read from standard input)",
    )
    users_add.set_defaults(handler=cmd_users_add)
    users_passwd = users_commands.add_parser(
        "passwd", help="set a person's password (asked for, or read from standard input)"
    )
    users_passwd.add_argument("name")
    users_passwd.set_defaults(handler=cmd_users_passwd)
    for verb, disable in (("disable", True), ("enable", False)):
        toggle = users_commands.add_parser(
            verb,
            help="disable a person (sessions end, tokens stop)" if disable else "enable again",
        )
        toggle.add_argument("name")
        toggle.set_defaults(handler=cmd_users_disable, disable=disable)

    tokens = commands.add_parser("tokens", help="API tokens")
    tokens_commands = tokens.add_subparsers(
        dest="tokens_command", required=True, parser_class=_Parser
    )
    tokens_create = tokens_commands.add_parser("create", help="a new token, printed once")
    tokens_create.add_argument("name")
    tokens_create.add_argument(
        "--days", type=int, default=90, help="days until it expires (default 90, at most 730)"
    )
    tokens_create.set_defaults(handler=cmd_tokens_create)
    tokens_list = tokens_commands.add_parser("list", help="tokens by prefix, owner and state")
    tokens_list.add_argument("name", nargs="?", default=None)
    tokens_list.set_defaults(handler=cmd_tokens_list)
    tokens_revoke = tokens_commands.add_parser("revoke", help="revoke a token by its prefix")
    tokens_revoke.add_argument("prefix")
    tokens_revoke.set_defaults(handler=cmd_tokens_revoke)

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    audit_commands.add_parser("verify", help="check the hash chain").set_defaults(
        handler=cmd_audit_verify
    )

    export = commands.add_parser("export", help="exports in the sector's standards")
    export_commands = export.add_subparsers(
        dest="export_command", required=True, parser_class=_Parser
    )
    damp = export_commands.add_parser(
        "damp-and-mould", help="one component of the damp and mould data model, as JSON"
    )
    damp.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD or RFC 3339")
    damp.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD (included) or RFC 3339")
    damp.add_argument("--component", required=True, choices=("investigation", "work_order"))
    damp.add_argument(
        "--personal", action="store_true", help="include tenants' names, contacts and report texts"
    )
    damp.add_argument(
        "--validate", action="store_true", help="check against the JSON Schema; exit 1 if it fails"
    )
    damp.set_defaults(handler=cmd_export_damp_and_mould)
    tsm = export_commands.add_parser("tsm", help="TSM RP02 for a financial year, as CSV")
    tsm.add_argument("--year", required=True, help="the year it starts in April: 2025 or 2025/26")
    tsm.set_defaults(handler=cmd_export_tsm)

    work_orders = commands.add_parser("work-orders", help="work orders")
    work_orders_commands = work_orders.add_subparsers(
        dest="work_orders_command", required=True, parser_class=_Parser
    )
    work_orders_import = work_orders_commands.add_parser(
        "import", help="status updates from another system (CSV), matched by its references"
    )
    work_orders_import.add_argument("file", metavar="FILE.csv")
    work_orders_import.add_argument(
        "--allocated-by", default=None, help="the system whose references the file uses"
    )
    work_orders_import.add_argument("--actor", default="work-orders import", help="who to record")
    work_orders_import.set_defaults(handler=cmd_work_orders_import)

    import_ = commands.add_parser("import", help="imports in the sector's standards")
    import_commands = import_.add_subparsers(
        dest="import_command", required=True, parser_class=_Parser
    )
    import_damp = import_commands.add_parser(
        "damp-and-mould",
        help="investigation and work_order documents into an empty Homesafe (after the registry)",
    )
    import_damp.add_argument("files", nargs="+", metavar="FILE.json")
    import_damp.set_defaults(handler=cmd_import_damp_and_mould)

    backup = commands.add_parser("backup", help="back up the case database and telemetry")
    backup.add_argument("directory", help="a new (or empty) directory")
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser("restore", help="restore a backup into empty stores")
    restore.add_argument("directory", help="a directory `homesafe backup` wrote")
    restore.set_defaults(handler=cmd_restore)

    db = commands.add_parser("db", help="the case database")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db_commands.add_parser("upgrade", help="run migrations").set_defaults(handler=cmd_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        for noisy in ("transitions", "amqtt", "alembic", "apscheduler", "httpx"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        return int(args.handler(args, load_settings()))
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
