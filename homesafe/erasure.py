"""Erasure of households' special-category data when their tenancy ends (issue 12).

Reading of the rule (docs/security.md): a household record (ethnicity, disability, age band,
children, over-65, language needs, vulnerability) describes the people living in the home. Once
every tenancy of the home has ended (each has an end date, the last before today) the household
has moved out, and the record is erased. What is kept:
- an audit entry (`household.special_category_erased`) naming the home and the fields erased,
  never their values, and why;
- the equity history in aggregate only: for each group the household was in, one more household
  and its number of cases (and of cases with a breached clock) in `special_category_tally`, with
  no home, person or date. Cases stay; in the equity analysis their group is "not recorded".
A home whose tenancy still runs keeps its record; a new household's record comes with the next
households.csv import. `erase_household` erases one record on request (e.g. a person's request
under UK GDPR art. 17), with the same audit entry and tally.

It lives in the composition root: it joins the registry (households, tenancies), compliance
(cases, the audit log) and the equity groups.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from compliance import audit
from compliance import repository as cases
from equity.outcomes import HOUSEHOLD_GROUPS, NOT_RECORDED
from registry import repository as registry

ERASED_ACTION = "household.special_category_erased"
BREACHED = ("breached", "breached_excused")


def erase_household(
    session: Session, *, home_id: str, now: datetime, actor: str, reason: str
) -> bool:
    """Erase the home's household record (tally and audit first); False when there is none."""
    household = registry.get_household(session, home_id)
    if household is None:
        return False
    home_cases = cases.cases_of_home(session, home_id)
    breached = sum(1 for c in home_cases if any(k.status in BREACHED for k in c.clocks))
    for dimension in HOUSEHOLD_GROUPS:
        value = getattr(household, dimension, None)
        registry.add_to_tally(
            session,
            dimension=dimension,
            level=str(value).strip() if value not in (None, "") else NOT_RECORDED,
            cases=len(home_cases),
            cases_breached=breached,
        )
    fields = sorted(
        column.name for column in household.__table__.columns if column.name != "home_id"
    )
    registry.delete_household(session, household)
    audit.append(
        session,
        at=now,
        actor=actor,
        action=ERASED_ACTION,
        entity_type="home",
        entity_id=home_id,
        before={"fields": fields},
        after={"reason": reason, "kept": "aggregate counts by group only"},
    )
    return True


def households_to_erase(session: Session, *, today: date) -> list[str]:
    """Homes whose household moved out: every tenancy ended before today."""
    return registry.homes_with_ended_tenancies(session, today)


def erase_ended_households(
    session: Session, *, today: date, now: datetime, actor: str = "homesafe"
) -> list[str]:
    """Erase every household whose tenancies have all ended; the homes erased."""
    erased = []
    for home_id in households_to_erase(session, today=today):
        if erase_household(
            session, home_id=home_id, now=now, actor=actor, reason="every tenancy of the home ended"
        ):
            erased.append(home_id)
    return erased
