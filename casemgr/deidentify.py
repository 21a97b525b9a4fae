"""De-identification for research extracts (issue 16, item 2): pseudonyms and
k-anonymity, as pure functions the extract builds on.

- A student appears under a pseudonym: HMAC-SHA-256 of their state ID under the
  project's own secret, which casemgr keeps and never exports. The same student has the
  same pseudonym in every extract of a project, across years and districts (the state ID
  follows a student who moves), and unrelated pseudonyms in two projects.
- The quasi-identifiers (what an outsider may know of a student: school, grade, gender,
  ethnicity, low income, English learner, disability, year of birth) are generalized,
  each along its own ladder, until every combination in the file covers at least k
  students (distinct students, not rows: a student has a row per school year, linked by
  the pseudonym, so a student's whole record must be shared by k students): schools
  and ethnicities held by fewer than k students merge into "Other", then one attribute
  at a time climbs its ladder, in the order that gives up first what studies of schools
  need least (year of birth, then the subgroups, then grade, the school last: a
  full-domain generalization, as Datafly, Sweeney 2002, with a fixed order); once the
  rows still in too small a combination are few (at most `max(k, 2%)` of them), those
  rows are left out, and the file says how many.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

HIDDEN = "*"  # a value generalized away entirely


def pseudonym(secret: bytes, state_id: str) -> str:
    """The student's pseudonym in a project: 20 hex digits (80 bits) of the HMAC."""
    return hmac.new(secret, state_id.strip().upper().encode(), hashlib.sha256).hexdigest()[:20]


def _band(width: int) -> Callable[[Hashable], Hashable]:
    def band(value):
        if value is None or value == HIDDEN:
            return value
        low = int(value) - int(value) % width
        return f"{low}–{low + width - 1}"
    return band


def _hide(value):
    return HIDDEN


# grades -1 (pre-K) to 12 in bands; below 0 counts as pre-K and K
_GRADE_BANDS = {0: "PK–K", **dict.fromkeys(range(1, 6), "1–5"), **dict.fromkeys(range(6, 9), "6–8"),
                9: "9–10", 10: "9–10", 11: "11–12", 12: "11–12"}

# each quasi-identifier's ladder: the generalizations after its exact value, the last
# hiding it entirely; a ladder's steps apply to the original value
LADDERS: dict[str, tuple[Callable[[Hashable], Hashable], ...]] = {
    "birth_year": (_band(2), _band(5), _hide),
    "grade": (lambda g: None if g is None else _GRADE_BANDS[min(max(int(g), 0), 12)], _hide),
    "school": (_hide,),  # small schools are merged first (`merge_small`), then the school hidden
    "gender": (_hide,),
    "ethnicity": (_hide,),
    "low_income": (_hide,),
    "english_learner": (_hide,),
    "disability": (_hide,),
}
OTHER = "Other"  # the level small schools and ethnicities are merged into
# the order detail is given up in: what studies of schools need least goes first
GIVEN_UP_FIRST = ("birth_year", "disability", "english_learner", "low_income", "gender", "ethnicity", "grade", "school")


@dataclass
class Anonymized:
    rows: list[dict]
    levels: dict[str, int]  # each quasi-identifier's step on its ladder (0: exact)
    rows_left_out: int
    merged: dict[str, list] = field(default_factory=dict)  # values merged into OTHER, by attribute


def anonymize(rows: Sequence[Mapping], quasi: Sequence[str], k: int, student: str = "pseudonym",
              within: Sequence[str] = (), max_left_out: int | None = None,
              at_least: Anonymized | None = None) -> Anonymized:
    """`rows` with their `quasi` columns generalized so that every combination of them
    covers at least `k` distinct students (`student` names the column that tells them
    apart) within each value of the `within` columns (an outsider knows the school year
    they look in), the rows still in a smaller one left out. Given an earlier result
    (`at_least`: the project's previous extract), no attribute is less generalized and
    no value merged before is shown again, so two extracts read together show no more
    detail than the later one."""
    quasi = [q for q in quasi if q in LADDERS]
    budget = max(k, len(rows) // 50) if max_left_out is None else max_left_out
    students = [row[student] for row in rows]
    before = at_least or Anonymized([], {}, 0)
    merged = {name: _small_values(rows, name, k, student) | set(before.merged.get(name, ()))
              for name in ("school", "ethnicity") if name in quasi}
    levels = {q: min(before.levels.get(q, 0), len(LADDERS[q])) for q in quasi}
    fixed = [tuple(row[w] for w in within) for row in rows]
    current = {q: _column(rows, q, levels[q], merged) for q in quasi}
    while True:
        keys = [(*known, *values) for known, *values in zip(fixed, *current.values(), strict=True)] if quasi else fixed
        small = _rows_in_small_classes(keys, k, students)
        movable = [q for q in quasi if levels[q] < len(LADDERS[q])]
        if len(small) <= budget or not movable:
            break
        chosen = min(movable, key=GIVEN_UP_FIRST.index)
        levels[chosen] += 1
        current[chosen] = _column(rows, chosen, levels[chosen], merged)
    kept = [{**row, **{q: current[q][index] for q in quasi}} for index, row in enumerate(rows) if index not in small]
    return Anonymized(kept, levels, len(rows) - len(kept), {name: sorted(v, key=repr) for name, v in merged.items() if v})


def _small_values(rows: Sequence[Mapping], name: str, k: int, student: str) -> set:
    """The values of `name` held by fewer than k students: merged into OTHER."""
    holders: dict = defaultdict(set)
    for row in rows:
        holders[row[name]].add(row[student])
    return {value for value, students in holders.items() if len(students) < k}


def _column(rows: Sequence[Mapping], name: str, level: int, merged: Mapping[str, set]) -> list:
    """The attribute's values at a step of its ladder (each distinct value worked out once)."""
    if level == 0:
        small = merged.get(name, set())
        return [OTHER if row[name] in small else row[name] for row in rows]
    step, seen = LADDERS[name][level - 1], {}
    out = []
    for row in rows:
        value = row[name]
        if value not in seen:
            seen[value] = step(value)
        out.append(seen[value])
    return out


def _rows_in_small_classes(keys: Sequence[tuple], k: int, students: Sequence) -> set[int]:
    """The rows of the students whose record, all their rows read together, fewer than k
    students share (`keys`: each row's known columns and quasi-identifiers). A student's
    rows are linked by their pseudonym, so an outsider who knows where a student was in
    two years looks for both rows under one pseudonym: the combination to hide them in is
    the whole record, not one row (its rows' combinations are then shared by k students too)."""
    records: dict[Hashable, list[tuple]] = defaultdict(list)
    rows_of: dict[Hashable, list[int]] = defaultdict(list)
    for index, (key, who) in enumerate(zip(keys, students, strict=True)):
        records[who].append(tuple(map(repr, key)))
        rows_of[who].append(index)
    sharing: dict[tuple, int] = defaultdict(int)
    record_of = {who: tuple(sorted(rows)) for who, rows in records.items()}
    for record in record_of.values():
        sharing[record] += 1
    return {index for who, record in record_of.items() if sharing[record] < k for index in rows_of[who]}
