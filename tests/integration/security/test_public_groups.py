"""The public page's groups come from a fixed list (issue 12): which small groups exist among the
landlord's residents is no longer revealed by the labels of suppressed rows. Every category is
listed whether or not anyone is in it, and a resident group not on the list is folded into
"not recorded" (ages into three broad bands)."""

from __future__ import annotations

import pytest

from equity.suppression import PUBLIC_CATEGORIES, public_categories
from registry.service import import_registry
from tests.factories import homes_csv, households_csv
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = build_site(tmp_path_factory.mktemp("public-groups"))
    with site.context.sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_csv(homes=3, sensors_per_home=2),
            # One household of a rare group, with an unusual age band.
            households_text=households_csv(["H0001"], ethnicity="Mixed", age_band="105-109")
            + households_csv(["H0002"], ethnicity="White").split("\n", 1)[1],
        )
    return site


def _labels(groups: list[dict]) -> list[tuple[str, str]]:
    return [(g["dimension"], str(g["level"])) for g in groups]


def test_the_public_api_lists_every_category_and_only_them(site: Site) -> None:
    body = site.client().get("/api/v1/transparency")
    if body.status_code == 401:  # the API needs a token; any role may read it
        body = site.client("viewer", bearer=True).get("/api/v1/transparency")
    groups = body.json()["cases_with_a_missed_deadline"]["groups"]
    expected = [(d, level) for d, levels in PUBLIC_CATEGORIES.items() for level in levels]
    assert _labels(groups) == expected
    assert all(g["suppressed"] for g in groups)  # two cases: every group is too small


def test_the_public_page_shows_the_fixed_categories(site: Site) -> None:
    page = site.client().get("/transparency").text
    assert "Ethnicity: Asian" in page  # listed though nobody is in it
    assert "105-109" not in page
    assert "Age band: 65 and over" in page


def test_public_categories_fold_unknown_values() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "ethnicity": ["Mixed", "Martian", "not recorded"],
            "disability": ["yes", "maybe", "not known"],
            "age_band": ["16-24", "35-49", "105-109"],
            "imd_decile": ["1", "10", "11"],
        }
    )
    out = public_categories(frame)
    assert out["ethnicity"].tolist() == ["Mixed", "not recorded", "not recorded"]
    assert out["disability"].tolist() == ["yes", "not recorded", "not known"]
    assert out["age_band"].tolist() == ["under 35", "35 to 64", "65 and over"]
    assert out["imd_decile"].tolist() == ["1", "10", "not recorded"]
