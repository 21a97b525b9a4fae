"""Postsecondary outcomes (issue 16 item 4): who the district's graduates are, and the
four measures derived from the records the Clearinghouse's StudentTracker returns.

A graduate is a student whose record says they left the district's schools (`left_on`)
at the end of a year in which their last stay was in grade 12: within 60 days before
that school year's last day or the summer after it (casemgr keeps no exit reason; a
senior who moved away in March is not counted). Their graduating class is that school
year.

The measures, per graduate with at least one record (found or not), in one statement:
- enrolled in the fall after graduation: an enrollment term overlapping 15 August to
  31 October (the Clearinghouse's own fall in its high school reports) of the first
  fall after graduation: the graduation year when they graduated before 15 August,
  else the next year;
- enrolled within a year: an enrollment beginning on or after the graduation day and
  at most 365 days after it, or a fall enrollment as above (terms begun before
  graduation, dual enrollment, do not count);
- persisted to a second year: enrolled in that first fall and in the fall a year later,
  at any college; unknown (NULL) while the latest report came before that second fall
  began;
- completed a degree: any degree record, whatever its date.
A term without an end date ends the day it begins.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import StoredCube

GRADUATES_CTE = """
graduates AS (
    SELECT s.id AS student_id, s.district_id, e.school_year AS class_year, s.left_on AS graduated_on,
           e.school_id
    FROM students s
    CROSS JOIN LATERAL (
        SELECT se.school_year, se.school_id, se.grade FROM school_enrollments se
        WHERE se.student_id = s.id ORDER BY se.school_year DESC, se.entry_date DESC, se.id DESC LIMIT 1) e
    JOIN school_years y ON y.district_id = s.district_id AND y.year = e.school_year
    WHERE s.district_id = :district_id AND s.left_on IS NOT NULL AND e.grade = 12
      AND s.left_on BETWEEN y.ends_on - 60 AND y.ends_on + 92
)"""

DERIVE_SQL = sa.text(f"""
WITH {GRADUATES_CTE},
windows AS (
    SELECT g.*, first_fall,
           make_date(first_fall, 8, 15) AS fall_begins, make_date(first_fall, 10, 31) AS fall_ends,
           make_date(first_fall + 1, 8, 15) AS second_begins, make_date(first_fall + 1, 10, 31) AS second_ends
    FROM graduates g
    CROSS JOIN LATERAL (SELECT CASE WHEN g.graduated_on < make_date(extract(year FROM g.graduated_on)::int, 8, 15)
                                    THEN extract(year FROM g.graduated_on)::int
                                    ELSE extract(year FROM g.graduated_on)::int + 1 END AS first_fall) f
    WHERE (CAST(:student_ids AS int[]) IS NULL OR g.student_id = ANY(CAST(:student_ids AS int[])))
),
measured AS (
    SELECT w.student_id, w.district_id, w.class_year, w.graduated_on, max(r.reported_on) AS reported_on,
           bool_or(r.found AND r.begins_on <= w.fall_ends AND coalesce(r.ends_on, r.begins_on) >= w.fall_begins)
               AS fall,
           bool_or(r.found AND r.begins_on <= w.second_ends AND coalesce(r.ends_on, r.begins_on) >= w.second_begins)
               AS second_fall,
           bool_or(r.found AND r.begins_on BETWEEN w.graduated_on AND w.graduated_on + 365) AS within_year,
           bool_or(r.found AND r.graduated) AS degree,
           min(w.second_begins) AS second_begins
    FROM windows w JOIN postsecondary_records r ON r.student_id = w.student_id AND r.district_id = w.district_id
    GROUP BY w.student_id, w.district_id, w.class_year, w.graduated_on
)
INSERT INTO postsecondary_outcomes (student_id, district_id, class_year, graduated_on, reported_on, enrolled_fall,
                                    enrolled_within_year, persisted, completed_degree)
SELECT student_id, district_id, class_year, graduated_on, reported_on, coalesce(fall, false),
       coalesce(fall, false) OR coalesce(within_year, false),
       CASE WHEN reported_on >= second_begins THEN coalesce(fall AND second_fall, false) END,
       coalesce(degree, false)
FROM measured
ON CONFLICT (student_id) DO UPDATE SET
    class_year = EXCLUDED.class_year, graduated_on = EXCLUDED.graduated_on, reported_on = EXCLUDED.reported_on,
    enrolled_fall = EXCLUDED.enrolled_fall, enrolled_within_year = EXCLUDED.enrolled_within_year,
    persisted = EXCLUDED.persisted, completed_degree = EXCLUDED.completed_degree
""")

# a student no longer a graduate (their record changed) or without records keeps no outcome
STALE_SQL = sa.text(f"""
WITH {GRADUATES_CTE}
DELETE FROM postsecondary_outcomes o
WHERE o.district_id = :district_id
  AND (CAST(:student_ids AS int[]) IS NULL OR o.student_id = ANY(CAST(:student_ids AS int[])))
  AND (NOT EXISTS (SELECT 1 FROM graduates g WHERE g.student_id = o.student_id)
       OR NOT EXISTS (SELECT 1 FROM postsecondary_records r WHERE r.student_id = o.student_id))
""")

GRADUATES_SQL = sa.text(f"""
WITH {GRADUATES_CTE}
SELECT g.student_id, g.class_year, g.graduated_on, s.local_id, s.first_name, s.middle_name, s.last_name,
       s.birth_date, s.gender, s.ethnicity, s.low_income, s.english_learner, s.disability, s.ferpa_block,
       o.act_code, o.name AS school_name
FROM graduates g JOIN students s ON s.id = g.student_id JOIN organizations o ON o.id = g.school_id
WHERE g.class_year = :class_year
ORDER BY o.name, s.last_name, s.first_name, s.local_id
""")


STORED = sa.text("""
    SELECT student_id, class_year, enrolled_fall, enrolled_within_year, persisted, completed_degree
    FROM postsecondary_outcomes o WHERE o.district_id = :district_id
      AND (CAST(:student_ids AS int[]) IS NULL OR o.student_id = ANY(CAST(:student_ids AS int[])))""")

# each class's graduates, their FERPA blocks and those the Clearinghouse reported on, in one pass
SUMMARY_SQL = sa.text(f"""
WITH {GRADUATES_CTE}
SELECT g.class_year, count(*) AS graduates, count(*) FILTER (WHERE s.ferpa_block) AS blocked,
       count(o.student_id) AS reported
FROM graduates g JOIN students s ON s.id = g.student_id
LEFT JOIN postsecondary_outcomes o ON o.student_id = g.student_id AND o.class_year = g.class_year
GROUP BY g.class_year ORDER BY g.class_year DESC
""")


def derive(district_id: int, student_ids: Sequence[int] | None = None) -> None:
    """Store the measures of the district's graduates (or of `student_ids` alone) from
    their records, set-based; run after each detail report and each recompute of the
    indicators (a student's record may have changed who graduated when)."""
    params = {"district_id": district_id, "student_ids": list(student_ids) if student_ids is not None else None}
    before = set(db.session.execute(STORED, params).tuples())
    db.session.execute(STALE_SQL, params)
    db.session.execute(DERIVE_SQL, params)
    # the reports' stored figures of each class whose measures changed (a graduate added,
    # gone, moved to another class or measured anew) are counted again when read
    changed = sorted({row[1] for row in before ^ set(db.session.execute(STORED, params).tuples())})
    if changed:
        db.session.execute(sa.delete(StoredCube).where(StoredCube.district_id == district_id, StoredCube.month == 0,
                                                       StoredCube.school_year.in_(changed)))


def class_summary(district_id: int) -> list[sa.Row]:
    """(class_year, graduates, blocked, reported) per graduating class, the latest first."""
    return list(db.session.execute(SUMMARY_SQL, {"district_id": district_id}))


def graduates(district_id: int, class_year: int) -> list[sa.Row]:
    """The graduates of a class, with what the Clearinghouse's graduates file needs."""
    return list(db.session.execute(GRADUATES_SQL, {"district_id": district_id, "class_year": class_year}))


def classes(district_id: int) -> list[int]:
    """The graduating classes the district has graduates of, the latest first."""
    return [row.class_year for row in class_summary(district_id)]
