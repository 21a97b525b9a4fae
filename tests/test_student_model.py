"""Ages and eligibility, as the consent forms compute them."""
from datetime import date

import pytest

from casemgr.models import Student


@pytest.mark.parametrize(
    "born, on, age",
    [
        (date(2008, 5, 17), date(2026, 5, 16), 17),
        (date(2008, 5, 17), date(2026, 5, 17), 18),
        (date(2008, 2, 29), date(2026, 2, 27), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 18),  # a 29 February birthday falls on 28 February
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_age_on(born, on, age):
    assert Student(birth_date=born).age_on(on) == age


def test_eligible_at_18_or_in_postsecondary():
    assert Student(birth_date=date(2008, 5, 17), postsecondary=False).is_eligible_on(date(2026, 5, 17))
    assert not Student(birth_date=date(2009, 5, 17), postsecondary=False).is_eligible_on(date(2026, 5, 17))
    assert Student(birth_date=date(2009, 5, 17), postsecondary=True).is_eligible_on(date(2026, 5, 17))
