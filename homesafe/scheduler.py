"""APScheduler 3 jobs: the breach sweep, warnings, notifications and the detector pass. Deadlines
are rows, not timers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from compliance.jobs import run_checkpoint, run_sweep, run_warnings
from homesafe.bootstrap import Services, detect_once, notify_worker
from homesafe.lifecycle import JOB_GRACE_S, leave_now, wait_until
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


def survey_job(services: Services) -> None:
    """Ask households one question at each milestone of their repair (docs/residents.md)."""
    from equity.residents.jobs import run_surveys

    asked = run_surveys(services.sessions, now=utc_now())
    if asked:
        log.info("asked %d household(s) about a repair", asked)


SURVEY_INTERVAL_S = 300.0


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


def notify_job(services: Services) -> None:
    """Fan the outbox out into messages and send what is due (docs/notifications.md)."""
    summary = notify_worker(services).run_once()
    if summary.failed or summary.not_sent:
        log.warning(
            "notifications: %d sent, %d failed, %d not sent",
            summary.sent,
            summary.failed,
            summary.not_sent,
        )


def erasure_job(services: Services) -> None:
    """Erase the special-category data of households whose tenancies have all ended."""
    from homesafe.erasure import erase_ended_households

    now = utc_now()
    with services.sessions.begin() as session:
        erased = erase_ended_households(
            session, today=services.compliance.calendar.local_date(now), now=now
        )
    if erased:
        log.info("erased the household records of %d home(s) whose tenancy ended", len(erased))


ERASURE_INTERVAL_S = 3600.0


def retention_job(services: Services) -> None:
    """Hourly rollups of final hours; raw readings past HOMESAFE_RETENTION_RAW_DAYS let go."""
    if services.retention is None:
        return
    done = services.retention.run(now=utc_now(), raw_days=services.settings.retention_raw_days)
    if done.rollup_rows or done.raw_deleted:
        log.info(
            "retention: %d hourly rollup(s) up to %s; %s raw reading(s) deleted",
            done.rollup_rows,
            done.rolled_until_s,
            done.raw_deleted if done.raw_deleted is not None else "InfluxDB's policy drops",
        )


def detect_job(services: Services) -> None:
    found = detect_once(services, now=utc_now())
    if found:
        log.info("detectors raised %d finding(s)", found)


class Scheduler:
    """APScheduler 3 in background threads, counting the jobs that are running (for a clean stop)."""

    def __init__(self) -> None:
        self.aps = BackgroundScheduler(timezone="UTC")
        self._running = 0
        self._lock = threading.Lock()

    def add(self, job: Callable[[Services], None], seconds: float, services: Services) -> None:
        """Run job(services) now and then every `seconds`; never two runs of it at once."""

        def run(services: Services) -> None:
            with self._lock:
                self._running += 1
            try:
                job(services)
            finally:
                with self._lock:
                    self._running -= 1

        self.aps.add_job(
            run,
            "interval",
            seconds=seconds,
            args=[services],
            id=job.__name__.removesuffix("_job"),
            name=job.__name__,
            max_instances=1,
            coalesce=True,
            next_run_time=utc_now(),
            misfire_grace_time=None,
        )

    @property
    def running_jobs(self) -> int:
        with self._lock:
            return self._running

    def job_ids(self) -> list[str]:
        return [job.id for job in self.aps.get_jobs()]

    def start(self) -> None:
        self.aps.start()

    def stop(self, grace_s: float = JOB_GRACE_S) -> bool:
        """Start no more jobs; wait up to grace_s for running ones. True when none is left running."""
        if self.aps.running:
            self.aps.shutdown(wait=False)
        return wait_until(lambda: self.running_jobs == 0, grace_s)


def run_until(scheduler: Scheduler, stop: threading.Event, what: str) -> int:
    """Serve the scheduler's jobs until stop; leave without waiting for a job past its grace."""
    scheduler.start()
    log.info("%s running: %s", what, ", ".join(scheduler.job_ids()))
    stop.wait()
    if not scheduler.stop():
        log.warning(
            "%s: a job is still running after %.0f s; leaving (its transaction rolls back)",
            what,
            JOB_GRACE_S,
        )
        leave_now(0)
    log.info("%s stopped", what)
    return 0


def make_scheduler(
    services: Services,
    *,
    sweep: bool = True,
    detect: bool = True,
    sweep_interval_s: float | None = None,
    detect_interval_s: float | None = None,
) -> Scheduler:
    """A scheduler with the chosen jobs; each runs once at start and then on its interval."""
    scheduler = Scheduler()
    if sweep:
        scheduler.add(sweep_job, sweep_interval_s or services.settings.sweep_interval_s, services)
        scheduler.add(verify_job, VERIFY_INTERVAL_S, services)
        scheduler.add(survey_job, SURVEY_INTERVAL_S, services)
        scheduler.add(checkpoint_job, CHECKPOINT_INTERVAL_S, services)
        scheduler.add(erasure_job, ERASURE_INTERVAL_S, services)
        scheduler.add(retention_job, services.settings.retention_interval_s, services)
        notify_worker(services).release_own_claims()  # what this worker left mid-send
        scheduler.add(notify_job, services.settings.notify_interval_s, services)
    if detect:
        scheduler.add(
            detect_job, detect_interval_s or services.settings.detect_interval_s, services
        )
    return scheduler
