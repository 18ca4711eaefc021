"""APScheduler 3 jobs: the breach sweep, warnings, notifications and the detector pass. Deadlines
are rows, not timers."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from compliance.jobs import run_checkpoint, run_sweep, run_warnings
from homesafe.bootstrap import Services, detect_once, notify_worker
from notify.worker import Worker
from registry.clock import utc_now

log = logging.getLogger(__name__)


def sweep_job(services: Services) -> None:
    now = utc_now()
    breached = run_sweep(services.sessions, now=now)
    if breached:
        log.warning("recorded %d breached clock(s)", breached)
    warned = run_warnings(services.sessions, now=now)
    if warned:
        log.info("fired %d deadline warning(s)", warned)


def verify_job(services: Services) -> None:
    """Settle post-repair verification: recurred where sensors found the hazard again, else healthy."""
    from repairs.jobs import run_verification

    summary = run_verification(services.sessions, now=utc_now(), engine=services.compliance)
    if summary.recurred:
        log.warning("%d repair(s) undone: the hazard came back", summary.recurred)


VERIFY_INTERVAL_S = 3600.0


def checkpoint_job(services: Services) -> None:
    """Write today's audit-log checkpoint (head hash and count, signed with HOMESAFE_AUDIT_KEY)."""
    key = services.settings.audit_key
    if run_checkpoint(
        services.sessions,
        now=utc_now(),
        engine=services.compliance,
        key=key.encode() if key else None,
    ):
        log.info("wrote today's audit checkpoint")


CHECKPOINT_INTERVAL_S = 3600.0


def notify_job(worker: Worker) -> None:
    """Fan the outbox out into messages and send what is due (docs/operations.md)."""
    summary = worker.run_once()
    if summary.failed or summary.not_sent:
        log.warning(
            "notifications: %d sent, %d failed, %d not sent",
            summary.sent,
            summary.failed,
            summary.not_sent,
        )


def detect_job(services: Services) -> None:
    found = detect_once(services, now=utc_now())
    if found:
        log.info("detectors raised %d finding(s)", found)


def make_scheduler(
    services: Services,
    *,
    blocking: bool = False,
    sweep: bool = True,
    detect: bool = True,
    sweep_interval_s: float | None = None,
    detect_interval_s: float | None = None,
) -> BaseScheduler:
    """A scheduler with the chosen jobs; each runs once at start and then on its interval."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
    )
    now = utc_now()
    common = {
        "max_instances": 1,
        "coalesce": True,
        "next_run_time": now,
        "misfire_grace_time": None,
    }
    if sweep:
        scheduler.add_job(
            sweep_job,
            "interval",
            seconds=sweep_interval_s or services.settings.sweep_interval_s,
            args=[services],
            id="sweep",
            **common,
        )
        scheduler.add_job(
            verify_job,
            "interval",
            seconds=VERIFY_INTERVAL_S,
            args=[services],
            id="verify_repairs",
            **common,
        )
        worker = notify_worker(services)
        worker.release_own_claims()
        scheduler.add_job(
            notify_job,
            "interval",
            seconds=services.settings.notify_interval_s,
            args=[worker],
            id="notify",
            **common,
        )
        scheduler.add_job(
            checkpoint_job,
            "interval",
            seconds=CHECKPOINT_INTERVAL_S,
            args=[services],
            id="audit_checkpoint",
            **common,
        )
    if detect:
        scheduler.add_job(
            detect_job,
            "interval",
            seconds=detect_interval_s or services.settings.detect_interval_s,
            args=[services],
            id="detect",
            **common,
        )
    return scheduler
