"""`homesafe backup DIR` and `homesafe restore DIR` (docs/operations.md, "Backup and restore").

A backup directory holds the case database and the telemetry store, each in its own tool's
format, and a manifest saying what is where:

- PostgreSQL: `cases.dump`, from `pg_dump --format=custom` (one consistent snapshot);
- SQLite case database: `cases.db`, copied page by page with SQLite's online backup API
  (consistent while Homesafe keeps writing);
- InfluxDB: `influxdb/`, from `influxd backup -portable -db NAME -host RPC` (needs the server's
  RPC bind address, 8088 by default: HOMESAFE_INFLUX_RPC_ADDRESS);
- SQLite telemetry store: `telemetry.db`, by the online backup API.

`restore` puts them back only into empty stores (a PostgreSQL database with no tables, a missing
or empty SQLite file, an InfluxDB without the database or with the database empty): it never
merges into or overwrites live data. Stop the Homesafe services first; start them after.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy.engine import URL, make_url

MANIFEST = "manifest.json"
FORMAT = 1
TOOL_TIMEOUT_S = 6 * 3600


class BackupError(Exception):
    """A tool or a store failed during a backup or restore; the message says which and why."""


class BackupRefused(BackupError):
    """The backup or restore may not go ahead (a directory or store not empty, a wrong kind)."""


@dataclass(frozen=True)
class Targets:
    """Where the stores are, from the settings."""

    database_url: str
    telemetry_url: str
    influx_rpc_address: str | None = None


# --- helpers --------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/bin") / name, Path("/usr/sbin") / name) if p.exists()), None
    )
    if found is None:
        raise BackupRefused(f"`{name}` is not installed (docs/operations.md, 'Backup and restore')")
    return found


def _run(command: list[str], *, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BackupError(f"{Path(command[0]).name} failed: {' / '.join(detail)}")


def _sqlite_path(url: str) -> Path:
    path = unquote(url.split(":///", 1)[1].split("?", 1)[0])
    if not path or path == ":memory:":
        raise BackupRefused(f"{url}: an in-memory SQLite database cannot be backed up")
    return Path(path)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while others may write to source."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    db = sqlite3.connect(path)
    try:
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    finally:
        db.close()
    return int(tables[0]) == 0


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """(a libpq URL without the password, PGPASSWORD env) from a SQLAlchemy PostgreSQL URL."""
    parsed: URL = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


class _Influx:
    """The few InfluxQL statements backup and restore need, over the v1 HTTP API."""

    def __init__(self, telemetry_url: str, rpc_address: str | None) -> None:
        parts = urlsplit(telemetry_url)
        if not parts.hostname:
            raise BackupError(f"telemetry URL {telemetry_url!r} has no host")
        self.database = unquote(parts.path.lstrip("/"))
        http = "https" if parts.scheme == "influxdbs" else "http"
        self.base_url = f"{http}://{parts.hostname}:{parts.port or 8086}"
        self.auth = (
            (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        )
        self.rpc = rpc_address or f"{parts.hostname}:8088"

    def query(self, statement: str, *, db: bool = True) -> list[dict[str, Any]]:
        try:
            response = httpx.post(
                f"{self.base_url}/query",
                params={"q": statement, **({"db": self.database} if db else {})},
                auth=self.auth,
                timeout=60,
            )
        except httpx.HTTPError as exc:
            raise BackupError(f"InfluxDB at {self.base_url} unreachable: {exc}") from exc
        if response.status_code >= 300:
            raise BackupError(f"InfluxDB answered {response.status_code}: {response.text[:300]}")
        results: list[dict[str, Any]] = response.json().get("results", [])
        for result in results:
            if result.get("error"):
                raise BackupError(f"InfluxDB: {result['error']}")
        return results

    def databases(self) -> set[str]:
        results = self.query("SHOW DATABASES", db=False)
        return {row[0] for r in results for s in r.get("series", ()) for row in s.get("values", ())}

    def measurements(self) -> int:
        results = self.query("SHOW MEASUREMENTS")
        return sum(len(s.get("values", ())) for r in results for s in r.get("series", ()))


# --- backup -------------------------------------------------------------------------------------


def backup(targets: Targets, directory: Path, *, now: datetime) -> dict[str, Any]:
    """Write a backup of both stores into directory (new or empty); return the manifest."""
    if directory.exists() and any(directory.iterdir()):
        raise BackupRefused(f"{directory} is not empty: give a new directory for each backup")
    directory.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": now.isoformat()}

    if targets.database_url.startswith("sqlite"):
        _sqlite_copy(_sqlite_path(targets.database_url), directory / "cases.db")
        manifest["database"] = {"kind": "sqlite", "file": "cases.db"}
    else:
        url, env = _libpq(targets.database_url)
        _run(
            [_tool("pg_dump"), "--format=custom", f"--file={directory / 'cases.dump'}", url],
            env=env,
        )
        manifest["database"] = {"kind": "postgresql", "file": "cases.dump"}

    if targets.telemetry_url.startswith("sqlite"):
        _sqlite_copy(_sqlite_path(targets.telemetry_url), directory / "telemetry.db")
        manifest["telemetry"] = {"kind": "sqlite", "file": "telemetry.db"}
    else:
        influx = _Influx(targets.telemetry_url, targets.influx_rpc_address)
        if influx.database not in influx.databases():
            raise BackupError(f"InfluxDB has no database {influx.database!r}")
        _run(
            [
                _tool("influxd"),
                "backup",
                "-portable",
                "-db",
                influx.database,
                "-host",
                influx.rpc,
                str(directory / "influxdb"),
            ]
        )
        manifest["telemetry"] = {
            "kind": "influxdb",
            "directory": "influxdb",
            "database": influx.database,
        }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# --- restore ------------------------------------------------------------------------------------


def _read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupRefused(f"{directory} holds no {MANIFEST}: not a Homesafe backup") from None
    if manifest.get("format") != FORMAT:
        raise BackupRefused(
            f"{directory}: backup format {manifest.get('format')!r} is not {FORMAT}"
        )
    return manifest


def _postgres_is_empty(url: str) -> bool:
    import psycopg

    libpq, env = _libpq(url)
    with psycopg.connect(libpq, password=env.get("PGPASSWORD")) as connection:
        row = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    return row is not None and int(row[0]) == 0


def restore(targets: Targets, directory: Path) -> dict[str, Any]:
    """Restore both stores from directory into empty stores; refuse before touching anything."""
    manifest = _read_manifest(directory)
    database, telemetry = manifest["database"], manifest["telemetry"]
    wants_sqlite_db = targets.database_url.startswith("sqlite")
    if (database["kind"] == "sqlite") != wants_sqlite_db:
        raise BackupRefused(
            f"the backup's case database is {database['kind']}; HOMESAFE_DATABASE_URL is not"
        )
    wants_sqlite_telemetry = targets.telemetry_url.startswith("sqlite")
    if (telemetry["kind"] == "sqlite") != wants_sqlite_telemetry:
        raise BackupRefused(
            f"the backup's telemetry store is {telemetry['kind']}; HOMESAFE_TELEMETRY_URL is not"
        )

    # Check both targets before changing either.
    if wants_sqlite_db:
        db_path = _sqlite_path(targets.database_url)
        if not _sqlite_is_empty(db_path):
            raise BackupRefused(f"{db_path} is not empty: restore only into an empty store")
    elif not _postgres_is_empty(targets.database_url):
        raise BackupRefused("the PostgreSQL database has tables: restore only into an empty one")
    influx: _Influx | None = None
    if wants_sqlite_telemetry:
        telemetry_path = _sqlite_path(targets.telemetry_url)
        if not _sqlite_is_empty(telemetry_path):
            raise BackupRefused(f"{telemetry_path} is not empty: restore only into an empty store")
    else:
        influx = _Influx(targets.telemetry_url, targets.influx_rpc_address)
        if influx.database in influx.databases() and influx.measurements():
            raise BackupRefused(
                f"InfluxDB database {influx.database!r} holds data: restore only into an empty one"
            )

    if wants_sqlite_db:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(directory / database["file"], db_path)
    else:
        url, env = _libpq(targets.database_url)
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={url}",
                str(directory / database["file"]),
            ],
            env=env,
        )
    if influx is None:
        telemetry_path.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(directory / telemetry["file"], telemetry_path)
    else:
        if influx.database in influx.databases():
            # Empty (e.g. made by the image's INFLUXDB_DB): a portable restore needs it absent.
            influx.query(f'DROP DATABASE "{influx.database}"', db=False)
        _run(
            [
                _tool("influxd"),
                "restore",
                "-portable",
                "-db",
                telemetry["database"],
                "-newdb",
                influx.database,
                "-host",
                influx.rpc,
                str(directory / telemetry["directory"]),
            ]
        )
    return manifest
