"""The National Student Clearinghouse's StudentTracker for High Schools files: the graduates
file a district sends each year, the detail report it gets back, and the four postsecondary
measures derived from that report.

Pure functions over text and frozen dataclasses: no database, no Flask, no clock (the
caller passes the file's creation date), so every value can be checked by hand.

The graduates file
------------------
The Clearinghouse takes two kinds of file from a high school: the yearly *graduates file*
(also called the diploma file), which it keeps and matches for every StudentTracker for
High Schools report, and the *request file* (rows H1 / D1 / T1) for a cohort the district
chooses, searched once. `graduates_file` writes the graduates file.

What the Clearinghouse publishes (Clearinghouse Academy lessons on the graduates file;
help.studentclearinghouse.org, "Formatting and Submitting a Graduates File"): text saved as
Excel's "Text (Tab delimited)", one row per line, no column names; dates YYYYMMDD; every
other cell text, leading zeros kept (SSN, student ID, the high school's ACT code).

    header   A "PH3" (once)   B the service agreement number (account code) the
             Clearinghouse gave   C the account name (the high school's or district's)
             D "P": the file holds high school diploma records   E the file transmission
             date   F the diploma period: the graduation year (such as 2024) when students
             graduate once a year, or YYYYMMDD-YYYYMMDD when they graduate through the year
             or the file holds several years (`diploma_period` builds it from the dates)
    detail   one row per graduate, columns A to AB: A "PD3"; I and L the two date columns;
             AA the optional program code: up to 50 characters, no single or double
             quotes, dashes or hyphens, several values separated by "_" or "."; AB "ED"
    trailer  A "PT3"   B the number of rows in the file, header, detail rows and trailer
             all counted (the Academy's trailer-row lesson: 98 graduates, 100)

The Clearinghouse's "Submit a Graduates File" guide (edition of 1 March 2021) groups the
detail columns: A-J student level, K-O high school specific, P-R, W and Z demographic,
S-Y academic, AA-AB the last two. Within those groups the column of each field is
casemgr's assignment (the guide's column pages were not at hand), to check against the
guide before the first submission; the positions are one table, `_detail_row`:

    student level   B SSN: always blank (casemgr holds none)   C first name (40)
                    D middle name (40)   E last name (40)   F name suffix (5, periods
                    removed)   G-H blank   I date of birth   J the district's student ID
                    (50): the Clearinghouse returns it as the detail report's "Requester
                    Return Field", to match results back
    high school     K the high school's ACT code (6 letters or digits, as given)
                    L graduation date   M diploma type ("Regular Diploma" unless said)
                    N blank   O FERPA block Y/N: the family asked that the student's
                    directory information not be released
    demographic     P gender   Q race/ethnicity (as casemgr holds them)   R economically
                    disadvantaged Y/N   W English learner Y/N   Z disability (IEP) Y/N
    academic        S-V, X-Y blank: casemgr sends no assessment

casemgr's rules beyond the published ones:
1. Names are written in ASCII (accents dropped, "ß" as "ss"), tabs and line breaks become
   spaces, periods are dropped from suffixes. The student ID is never cut: an ID longer
   than 50 characters is an error, since it must come back whole.
2. A graduation date outside the header's diploma period is an error, as is a program code
   that breaks the published rule (it is not rewritten: it is the district's own code).
3. Nothing is written while anything is wrong: SubmissionError lists every problem.

The detail report
-----------------
A CSV file, one row per enrollment term or per degree (never both on one row), and one
row "Record Found Y/N = N" for a student searched and not found. Headers are matched
case-insensitively, ignoring surrounding and repeated spaces and a UTF-8 byte order mark;
columns not named here are ignored. The student is matched by "Requester Return Field",
the student ID the district sent in column J ("Your Unique Identifier" is kept as is).
Row numbers count the header as row 1, as a spreadsheet shows the file.

The four measures derived from the records are computed in SQL where they are stored:
`casemgr.postsecondary`.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

T = TypeVar("T")

NAME_WIDTH, SUFFIX_WIDTH, STUDENT_ID_WIDTH, PROGRAM_CODE_WIDTH, ACT_CODE_WIDTH = 40, 5, 50, 50, 6
DIPLOMA_RECORDS = "P"  # header cell D1: the file holds high school diploma records
# not allowed in a program code: quotes and dashes, straight and typographic
PROGRAM_CODE_FORBIDDEN = "'\"‘’‚‛“”„‟-‐‑‒–—―−"
COLUMNS = (*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "AA", "AB")  # of a detail row
_NOT_DECOMPOSED = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                                 "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th",
                                 "Þ": "Th", "ı": "i"})


# ---------------------------------------------------------------- the submission file

@dataclass(frozen=True)
class Graduate:
    student_id: str  # the district's ID (column G): comes back as the requester return field
    first_name: str
    middle_name: str | None
    last_name: str
    suffix: str | None
    birth_date: date
    graduated_on: date
    high_school_code: str  # ACT code of the school the student graduated from, leading zeros kept
    ferpa_block: bool  # the family asked for a FERPA block (directory-information opt-out)
    gender: str | None = None
    ethnicity: str | None = None
    low_income: bool = False  # economically disadvantaged
    english_learner: bool = False
    disability: bool = False  # has an IEP
    diploma_type: str = "Regular Diploma"
    program_code: str | None = None  # the district's own code(s), returned in the detail report


@dataclass(frozen=True)
class GraduatesHeader:
    account_code: str  # the service agreement number the Clearinghouse gave the account
    account_name: str  # the high school's or the district's name, as the account has it
    created_on: date  # the file transmission date
    diploma_period: str  # "2024", or "20240101-20241231" (see `diploma_period`)


class SubmissionError(ValueError):
    """The graduates or the header cannot be written as a graduates file; `problems` says why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def diploma_period(dates: Iterable[date]) -> str:
    """The header's diploma period for these graduation dates: the year when all fall in one
    calendar year, else the range from the first to the last, YYYYMMDD-YYYYMMDD."""
    dates = sorted(dates)
    if not dates:
        raise ValueError("a diploma period needs at least one graduation date")
    first, last = dates[0], dates[-1]
    return f"{first.year:04d}" if first.year == last.year else f"{_yyyymmdd(first)}-{_yyyymmdd(last)}"


def graduates_file(header: GraduatesHeader, graduates: Iterable[Graduate]) -> str:
    """The graduates file (PH3, one PD3 per graduate, PT3), tab-delimited with CRLF line ends
    as Excel's "Text (Tab delimited)" writes it. Raises SubmissionError listing every problem."""
    graduates = list(graduates)
    period = _period_bounds(header.diploma_period)
    problems = _header_problems(header, period) + _graduate_problems(graduates, header.diploma_period, period)
    if problems:
        raise SubmissionError(problems)
    rows = [_header_row(header), *(_detail_row(g) for g in graduates)]
    rows.append(["PT3", str(len(rows) + 1)])
    return "".join("\t".join(row) + "\r\n" for row in rows)


def _header_row(header: GraduatesHeader) -> list[str]:
    return ["PH3", _clean(header.account_code), _clean(header.account_name), DIPLOMA_RECORDS,
            _yyyymmdd(header.created_on), header.diploma_period.strip()]


def _detail_row(graduate: Graduate) -> list[str]:
    """The row by column letter: the one place the positions are set (columns not named are blank)."""
    cells = {
        "A": "PD3",
        "B": "",  # SSN
        "C": _clean(graduate.first_name, NAME_WIDTH),
        "D": _clean(graduate.middle_name, NAME_WIDTH),
        "E": _clean(graduate.last_name, NAME_WIDTH),
        "F": _clean((graduate.suffix or "").replace(".", ""), SUFFIX_WIDTH),
        "I": _yyyymmdd(graduate.birth_date),
        "J": graduate.student_id.strip(),
        "K": graduate.high_school_code.strip(),
        "L": _yyyymmdd(graduate.graduated_on),
        "M": _clean(graduate.diploma_type),
        "O": _yes_no(graduate.ferpa_block),
        "P": _clean(graduate.gender),
        "Q": _clean(graduate.ethnicity),
        "R": _yes_no(graduate.low_income),
        "W": _yes_no(graduate.english_learner),
        "Z": _yes_no(graduate.disability),
        "AA": (graduate.program_code or "").strip(),
        "AB": "ED",
    }
    return [cells.get(column, "") for column in COLUMNS]


def _period_bounds(period: str) -> tuple[date, date] | None:
    """The first and last day of a diploma period, None if it is not one."""
    period = period.strip()
    if len(period) == 4 and period.isdigit() and period != "0000":
        return date(int(period), 1, 1), date(int(period), 12, 31)
    first, dash, last = period.partition("-")
    if not (dash and all(len(d) == 8 and d.isdigit() for d in (first, last))):
        return None
    try:
        bounds = datetime.strptime(first, "%Y%m%d").date(), datetime.strptime(last, "%Y%m%d").date()
    except ValueError:
        return None
    return bounds if bounds[0] <= bounds[1] else None


def _header_problems(header: GraduatesHeader, period: tuple[date, date] | None) -> list[str]:
    problems = [f"the header has no {what}" for what, value in
                (("account code", header.account_code), ("account name", header.account_name)) if not _clean(value)]
    if period is None:
        problems.append(f"the diploma period is {header.diploma_period!r}; it must be a graduation year (such as "
                        "2024) or a date range YYYYMMDD-YYYYMMDD, first date first")
    return problems


def _graduate_problems(graduates: list[Graduate], period_text: str, period: tuple[date, date] | None) -> list[str]:
    if not graduates:
        return ["there are no graduates: a graduates file needs at least one"]
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for number, graduate in enumerate(graduates, start=1):
        who = f"graduate {number} ({graduate.last_name}, {graduate.first_name})"
        student_id = graduate.student_id.strip()
        found = _id_problems(student_id)
        found += [f"has no {what} that can be written in the file" for what, value in
                  (("first name", graduate.first_name), ("last name", graduate.last_name)) if not _clean(value)]
        found += _act_code_problems(graduate.high_school_code.strip())
        if not _clean(graduate.diploma_type):
            found.append("has no diploma type")
        found += _program_code_problems((graduate.program_code or "").strip())
        if period is not None and not period[0] <= graduate.graduated_on <= period[1]:
            found.append(f"graduated on {_yyyymmdd(graduate.graduated_on)}, outside the diploma period "
                         f"{period_text.strip()}")
        if student_id and student_id in first_seen:
            found.append(f"has the student ID {student_id} of graduate {first_seen[student_id]}")
        first_seen.setdefault(student_id, number)
        problems += [f"{who} {problem}" for problem in found]
    return problems


def _id_problems(student_id: str) -> list[str]:
    if not student_id:
        return ["has no student ID"]
    if len(student_id) > STUDENT_ID_WIDTH:
        return [f"has a student ID longer than the {STUDENT_ID_WIDTH} characters the Clearinghouse returns"]
    if not (student_id.isascii() and student_id.isprintable()):
        return [f"has a student ID ({student_id!r}) with characters the file cannot carry"]
    return []


def _act_code_problems(code: str) -> list[str]:
    if not code:
        return ["has no high school ACT code"]
    if not (len(code) == ACT_CODE_WIDTH and code.isascii() and code.isalnum()):
        return [(f"has the high school ACT code {code!r}; an ACT code is {ACT_CODE_WIDTH} letters or digits "
                 "(leading zeros kept)")]
    return []


def _program_code_problems(code: str) -> list[str]:
    if not code:
        return []
    problems = []
    if len(code) > PROGRAM_CODE_WIDTH:
        problems.append(f"has a program code longer than {PROGRAM_CODE_WIDTH} characters")
    forbidden = sorted({c for c in code if c in PROGRAM_CODE_FORBIDDEN}, key=code.index)
    if forbidden:
        problems.append(f"has the program code {code!r} with {' '.join(forbidden)}: a program code may have no "
                        "quotes, dashes or hyphens (separate several values with _ or .)")
    elif not (code.isascii() and code.isprintable()):
        problems.append(f"has a program code ({code!r}) with characters the file cannot carry")
    return problems


def _yes_no(flag: bool) -> str:
    return "Y" if flag else "N"


def _clean(value: str | None, width: int | None = None) -> str:
    """ASCII text on one line, runs of spaces collapsed, cut to `width` characters."""
    decomposed = unicodedata.normalize("NFKD", (value or "").translate(_NOT_DECOMPOSED))
    text = "".join(c if c.isprintable() else " " for c in decomposed.encode("ascii", "ignore").decode("ascii"))
    text = " ".join(text.split())
    return text[:width].rstrip() if width else text


def _yyyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


# ---------------------------------------------------------------- the detail report

STUDENT_ID = "Requester Return Field"
REQUIRED_COLUMNS = (STUDENT_ID, "Record Found Y/N", "Search Date", "College Code/Branch", "2-year / 4-year",
                    "Public / Private", "Enrollment Begin", "Enrollment End", "Graduated?", "Graduation Date")
OPTIONAL_COLUMNS = ("Your Unique Identifier", "First Name", "Middle Initial", "Last Name", "Name Suffix",
                    "College Name", "College State", "Enrollment Status", "Class Level", "Enrollment Major 1",
                    "Degree Title", "Degree Major 1", "College Sequence")
# what a "not found" row must leave blank
COLLEGE_COLUMNS = ("College Code/Branch", "College Name", "College State", "2-year / 4-year", "Public / Private",
                   "Enrollment Begin", "Enrollment End", "Enrollment Status", "Class Level", "Graduation Date",
                   "Degree Title")
COLLEGE_LEVELS = {"4": "4", "2": "2", "l": "L"}  # four-year or more, two-year, less than two-year
CONTROLS = {"public": True, "private": False}
ENROLLMENT_STATUSES = {c.lower(): c for c in "FQHLAWD"}  # full, three-quarter, half, less than half time,
# leave of absence, withdrawn, deceased; blank where the college does not release it
YES_NO = {"y": True, "n": False}


@dataclass(frozen=True)
class EnrollmentRecord:
    """One row of the detail report: an enrollment term, a degree, or (found = False) the
    word that a searched student has no college record."""

    row: int
    student_id: str
    unique_identifier: str | None
    first_name: str | None
    middle_initial: str | None
    last_name: str | None
    name_suffix: str | None
    found: bool
    search_date: date
    college_code: str | None
    college_name: str | None
    college_state: str | None
    college_level: str | None  # "4", "2" or "L"
    public: bool | None
    enrollment_begin: date | None
    enrollment_end: date | None
    enrollment_status: str | None
    class_level: str | None
    enrollment_major: str | None
    graduated: bool
    graduation_date: date | None
    degree_title: str | None
    degree_major: str | None
    college_sequence: int | None


@dataclass(frozen=True)
class ReportError:
    """What is wrong with one row, in words for the district's data steward (as the
    importers' RowError: `row` None means the whole file)."""

    row: int | None
    message: str

    def describe(self) -> str:
        return f"row {self.row}: {self.message}" if self.row is not None else f"file: {self.message}"


@dataclass(frozen=True)
class DetailReport:
    """The good rows and one error per bad row: an importer rejects the file if `errors`."""

    records: tuple[EnrollmentRecord, ...]
    errors: tuple[ReportError, ...]


def parse_detail_report(text: str) -> DetailReport:
    """Read a detail report; never raises. Whether each student ID is the district's is
    the importer's to check (casemgr/importers/studenttracker.py)."""
    rows, unreadable = _read_rows(text.removeprefix("\ufeff"))
    if unreadable:
        return DetailReport((), (unreadable,))
    if not rows:
        return _file_error("the file is empty: it has no header row and no rows")
    (header_row, header), body = rows[0], rows[1:]
    index, problems = _column_index(header_row, header)
    if problems:
        return DetailReport((), tuple(problems))
    if not body:
        return _file_error("the file has a header but no rows")
    records: list[EnrollmentRecord] = []
    errors: list[ReportError] = []
    first_rows: dict[tuple, int] = {}
    for row, fields in body:
        parsed = _parse_row(row, fields, index, len(header))
        if isinstance(parsed, EnrollmentRecord):
            parsed = _unless_repeated(parsed, first_rows)
        if isinstance(parsed, EnrollmentRecord):
            records.append(parsed)
        else:
            errors.append(ReportError(row, "; ".join(parsed)))
    return DetailReport(tuple(records), tuple(errors))


def _file_error(message: str) -> DetailReport:
    return DetailReport((), (ReportError(None, message),))


def _read_rows(text: str) -> tuple[list[tuple[int, list[str]]], ReportError | None]:
    """The non-blank records with the row each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    last_line = 0
    try:
        for fields in reader:
            start, last_line = last_line + 1, reader.line_num
            if any(field.strip() for field in fields):
                rows.append((start, fields))
    except csv.Error as error:
        return [], ReportError(last_line + 1, f"the file cannot be read as CSV from here on ({error})")
    return rows, None


def _key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _column_index(header_row: int, header: list[str]) -> tuple[dict[str, int], list[ReportError]]:
    """Where each column is, by its matching key; and what makes the header unusable."""
    index: dict[str, int] = {}
    errors: list[ReportError] = []
    known = {_key(c): c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    for i, name in enumerate(header):
        key = _key(name)
        if key in index and key in known:
            errors.append(ReportError(header_row, f'the column "{known[key]}" appears twice in the header'))
        index.setdefault(key, i)
    missing = [c for c in REQUIRED_COLUMNS if _key(c) not in index]
    if len(missing) == len(REQUIRED_COLUMNS):
        return index, [ReportError(None, "the first row is not the header of a StudentTracker detail report "
                                         f'(it has none of the columns "{STUDENT_ID}", "Record Found Y/N", ...)')]
    errors += [ReportError(None, f'the file has no column "{c}", which every StudentTracker detail report has')
               for c in missing]
    return index, errors


class _Fields:
    """One row's values by column name, and the problems met reading them."""

    def __init__(self, fields: list[str], index: dict[str, int]) -> None:
        self._fields, self._index = fields, index
        self.problems: list[str] = []

    def text(self, column: str) -> str | None:
        i = self._index.get(_key(column))
        value = self._fields[i].strip() if i is not None and i < len(self._fields) else ""
        return value or None

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if value is None:
            return None
        if not (len(value) == 8 and value.isdigit()):
            self.problems.append(f'{column} "{value}" is not a date written YYYYMMDD (such as 20240826)')
            return None
        try:
            return datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            self.problems.append(f"{column} {value} is not a real date")
            return None

    def choice(self, column: str, allowed: Mapping[str, T], words: str) -> T | None:
        value = self.text(column)
        if value is None:
            return None
        if value.casefold() not in allowed:
            self.problems.append(f'{column} is "{value}"; it must be {words}')
        return allowed.get(value.casefold())

    def whole_number(self, column: str) -> int | None:
        value = self.text(column)
        if value is not None and not value.isdigit():
            self.problems.append(f'{column} is "{value}"; it must be a whole number')
        return int(value) if value is not None and value.isdigit() else None

    def require(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


def _parse_row(row: int, fields: list[str], index: dict[str, int], width: int) -> EnrollmentRecord | list[str]:
    if len(fields) > width:
        return [(f"the row has {len(fields)} values but the header has {width} columns "
                 "(a comma inside a value that is not in quotes?)")]
    f = _Fields(fields, index)
    student_id = f.text(STUDENT_ID)
    f.require(student_id is not None,
              f"{STUDENT_ID} (the student ID the district sent) is blank, so the row cannot be matched to a student")
    found = f.choice("Record Found Y/N", YES_NO, "Y or N")
    f.require(f.text("Record Found Y/N") is not None, "Record Found Y/N is blank; it must be Y or N")
    search_date = f.day("Search Date")
    f.require(f.text("Search Date") is not None, "Search Date is blank")
    record = EnrollmentRecord(
        row=row, student_id=student_id or "", unique_identifier=f.text("Your Unique Identifier"),
        first_name=f.text("First Name"), middle_initial=f.text("Middle Initial"), last_name=f.text("Last Name"),
        name_suffix=f.text("Name Suffix"), found=bool(found), search_date=search_date or date.min,
        college_code=f.text("College Code/Branch"), college_name=f.text("College Name"),
        college_state=f.text("College State"),
        college_level=f.choice("2-year / 4-year", COLLEGE_LEVELS, "4, 2 or L"),
        public=f.choice("Public / Private", CONTROLS, "Public or Private"),
        enrollment_begin=f.day("Enrollment Begin"), enrollment_end=f.day("Enrollment End"),
        enrollment_status=f.choice("Enrollment Status", ENROLLMENT_STATUSES, "one of F, Q, H, L, A, W, D or blank"),
        class_level=f.text("Class Level"), enrollment_major=f.text("Enrollment Major 1"),
        graduated=bool(f.choice("Graduated?", YES_NO, "Y or N")), graduation_date=f.day("Graduation Date"),
        degree_title=f.text("Degree Title"), degree_major=f.text("Degree Major 1"),
        college_sequence=f.whole_number("College Sequence"))
    _check_dates(f, record)
    if found is True:
        _check_found(f, record)
    elif found is False:
        _check_not_found(f, record)
    return f.problems or record


def _check_dates(f: _Fields, record: EnrollmentRecord) -> None:
    begin, end = record.enrollment_begin, record.enrollment_end
    if begin is not None and end is not None and end < begin:
        f.problems.append(f"Enrollment End {_yyyymmdd(end)} is before Enrollment Begin {_yyyymmdd(begin)}")


def _check_found(f: _Fields, record: EnrollmentRecord) -> None:
    """A found row names its college; a degree row has its date, an enrollment row its term."""
    f.require(record.college_code is not None, "Record Found is Y but College Code/Branch is blank")
    f.require(f.text("Graduated?") is not None, "Graduated? is blank; a row with a college record says Y or N")
    if record.graduated:
        f.require(f.text("Graduation Date") is not None, "Graduated? is Y but Graduation Date is blank")
    elif f.text("Graduated?") is not None:
        blank = [c for c in ("Enrollment Begin", "Enrollment End") if f.text(c) is None]
        f.require(not blank, f"{' and '.join(blank)} {'is' if len(blank) == 1 else 'are'} blank "
                  "on an enrollment row (Graduated? is N)")


def _check_not_found(f: _Fields, record: EnrollmentRecord) -> None:
    """A "no record" row says only that the student was searched: nothing of a college."""
    filled = [c for c in COLLEGE_COLUMNS if f.text(c) is not None]
    f.require(not filled, "Record Found is N (no college record for this student), yet "
              f"{', '.join(filled)} {'is' if len(filled) == 1 else 'are'} filled in")
    f.require(f.text("Graduated?") is None or not record.graduated,
              "Record Found is N (no college record for this student), yet Graduated? is Y")


def _unless_repeated(record: EnrollmentRecord, first_rows: dict[tuple, int]) -> EnrollmentRecord | list[str]:
    """The Clearinghouse sends each term and each degree once: a second copy would count twice."""
    if not record.found:
        return record
    if record.graduated:
        identity: tuple = ("degree", record.student_id, record.college_code, record.graduation_date,
                           record.degree_title)
        what = f"Graduation Date ({_yyyymmdd(record.graduation_date or date.min)})"
    else:
        identity = ("term", record.student_id, record.college_code, record.enrollment_begin)
        what = f"Enrollment Begin ({_yyyymmdd(record.enrollment_begin or date.min)})"
    first = first_rows.setdefault(identity, record.row)
    if first == record.row:
        return record
    return [(f"repeats row {first}: the same student ({record.student_id}), college ({record.college_code}) "
             f"and {what}")]
