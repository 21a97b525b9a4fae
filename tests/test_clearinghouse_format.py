"""The StudentTracker for High Schools files (casemgr/clearinghouse.py): the graduates file
written field by field, the detail report read field by field and row-numbered errors for
bad ones, and the four measures against values worked out by hand. No database."""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from casemgr.clearinghouse import (
    EnrollmentRecord,
    Graduate,
    GraduatesHeader,
    SubmissionError,
    diploma_period,
    graduates_file,
    parse_detail_report,
)

DATA = Path(__file__).parent / "data" / "clearinghouse"
CLASS_OF_2024 = date(2024, 6, 7)
HEADER = GraduatesHeader(account_code="10012345", account_name="Northfield School District",
                         created_on=date(2025, 9, 15), diploma_period="2024")
LETTERS = (*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "AA", "AB")  # a detail row's columns, as a spreadsheet names them


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")  # not utf-8-sig: a byte order mark reaches the parser


def graduate(student_id: str = "S1001", **changes) -> Graduate:
    ana = Graduate(student_id=student_id, first_name="Ana", middle_name="María", last_name="Álvarez", suffix=None,
                   birth_date=date(2006, 3, 14), graduated_on=CLASS_OF_2024, high_school_code="036123",
                   ferpa_block=False)
    return dataclasses.replace(ana, **changes)


def detail(*graduates: Graduate, header: GraduatesHeader = HEADER) -> dict[str, str]:
    """The first detail row of the file, by column letter."""
    fields = graduates_file(header, graduates or [graduate()]).split("\r\n")[1].split("\t")
    assert len(fields) == len(LETTERS)
    return dict(zip(LETTERS, fields))


def problems(*graduates: Graduate, header: GraduatesHeader = HEADER) -> list[str]:
    with pytest.raises(SubmissionError) as raised:
        graduates_file(header, graduates)
    return raised.value.problems


# ---------------------------------------------------------------- the submission file

def test_graduates_file_is_header_one_detail_row_per_graduate_and_trailer():
    graduates = [
        graduate(),
        graduate("000102", first_name="Benjamin", middle_name=None, last_name="Brooks", suffix="Jr.",
                 birth_date=date(2005, 11, 2), high_school_code="036124", ferpa_block=True, gender="M",
                 ethnicity="Black or African American", low_income=True, program_code="AP_FAFSA"),
        graduate("S1003", first_name="Cara", middle_name=" jo", last_name="Chen\tLi", birth_date=date(2006, 1, 30),
                 graduated_on=date(2024, 1, 19), english_learner=True, disability=True,
                 diploma_type="Modified Diploma"),
    ]
    s_to_v, x_to_y = "\t" * 4, "\t" * 2  # blank academic columns, each after its tab
    assert graduates_file(HEADER, graduates) == (
        "PH3\t10012345\tNorthfield School District\tP\t20250915\t2024\r\n"
        # A, B (SSN: blank), C-F names in ASCII, G-H blank, I birth, J student ID, K ACT code, L graduation,
        # M diploma type, N blank, O FERPA, P gender, Q race/ethnicity, R low income, S-V blank, W English
        # learner, X-Y blank, Z disability, AA program code, AB "ED"
        "PD3\t\tAna\tMaria\tAlvarez\t\t\t\t20060314\tS1001\t036123\t20240607\tRegular Diploma\t\tN\t\t\tN"
        f"{s_to_v}\tN{x_to_y}\tN\t\tED\r\n"
        # leading zeros kept in the student ID and the ACT code; the suffix without its period
        "PD3\t\tBenjamin\t\tBrooks\tJr\t\t\t20051102\t000102\t036124\t20240607\tRegular Diploma\t\tY\tM"
        f"\tBlack or African American\tY{s_to_v}\tN{x_to_y}\tN\tAP_FAFSA\tED\r\n"
        # a tab inside a name would shift every column after it: it becomes a space
        "PD3\t\tCara\tjo\tChen Li\t\t\t\t20060130\tS1003\t036123\t20240119\tModified Diploma\t\tN\t\t\tN"
        f"{s_to_v}\tY{x_to_y}\tY\t\tED\r\n"
        "PT3\t5\r\n"  # 3 graduates + header + trailer
    )


def test_header_row_field_by_field():
    header = GraduatesHeader(account_code=" 10012345 ", account_name="Escuela Secundaria Benito Juárez\t",
                             created_on=date(2025, 1, 2), diploma_period="20240101-20241231")
    assert graduates_file(header, [graduate()]).split("\r\n")[0].split("\t") == [
        "PH3", "10012345", "Escuela Secundaria Benito Juarez", "P", "20250102", "20240101-20241231"]


def test_detail_row_field_by_field():
    row = detail(graduate("S2001", first_name="Dev", middle_name="Raj", last_name="Patel", suffix="III",
                          birth_date=date(2006, 12, 1), graduated_on=date(2024, 5, 31), high_school_code="361235",
                          ferpa_block=True, gender="F", ethnicity="Asian", low_income=True, english_learner=True,
                          disability=True, diploma_type="International Baccalaureate", program_code="AP.FAFSA_CTE"))
    assert row == {
        "A": "PD3", "B": "", "C": "Dev", "D": "Raj", "E": "Patel", "F": "III", "G": "", "H": "",
        "I": "20061201",  # date of birth
        "J": "S2001", "K": "361235",
        "L": "20240531",  # graduation date
        "M": "International Baccalaureate", "N": "", "O": "Y", "P": "F", "Q": "Asian", "R": "Y",
        "S": "", "T": "", "U": "", "V": "", "W": "Y", "X": "", "Y": "", "Z": "Y",
        "AA": "AP.FAFSA_CTE", "AB": "ED"}


@pytest.mark.parametrize("blocked, flag", [(True, "Y"), (False, "N")])
def test_ferpa_block_flag(blocked, flag):
    assert detail(graduate(ferpa_block=blocked))["O"] == flag


@pytest.mark.parametrize("change, column", [
    ({"low_income": True}, "R"), ({"english_learner": True}, "W"), ({"disability": True}, "Z")])
def test_each_yes_no_flag_has_its_own_column(change, column):
    row = detail(graduate(**change))
    assert [letter for letter in "ORWZ" if row[letter] == "Y"] == [column]


def test_what_casemgr_is_not_told_is_left_blank_or_no():
    row = detail(graduate())
    assert (row["B"], row["P"], row["Q"], row["R"], row["W"], row["Z"], row["AA"]) == ("", "", "", "N", "N", "N", "")
    assert row["M"] == "Regular Diploma"


def test_every_row_has_its_number_of_fields_and_the_trailer_counts_every_row():
    text = graduates_file(HEADER, [graduate(f"S{n}") for n in range(12)])
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    widths = [(line[:3], len(line.split("\t"))) for line in text.split("\r\n") if line]
    assert widths == [("PH3", 6)] + [("PD3", 28)] * 12 + [("PT3", 2)]
    assert text.splitlines()[-1] == "PT3\t14"  # 12 graduates + header + trailer


def test_names_are_cut_to_40_characters_and_written_in_ascii():
    long = graduate(first_name="Ægidius-Maximilian Józef Bartholomäus Christophorus",
                    middle_name="-Łukasz Žofie", last_name="Straßenberger-Øvergaard de la Vega y M Ríos",
                    suffix="III.Esq.")
    row = detail(long)
    assert (row["C"], row["D"], row["E"], row["F"]) == (
        "AEgidius-Maximilian Jozef Bartholomaus C", "-Lukasz Zofie", "Strassenberger-Overgaard de la Vega y M",
        "IIIEs")
    assert [len(row[c]) for c in "CDEF"] == [40, 13, 39, 5]  # E cut at 40, then the trailing space dropped


def test_leading_zeros_are_kept():
    row = detail(graduate("000101", high_school_code="003456"))
    assert (row["J"], row["K"]) == ("000101", "003456")


@pytest.mark.parametrize("code, written", [
    ("AP_FAFSA.CTE", "AP_FAFSA.CTE"),  # several values, separated by underscore and period
    (" AP ", "AP"), ("   ", ""), (None, ""),
    ("X" * 50, "X" * 50),
    ("CTE (Welding) & AP #2", "CTE (Welding) & AP #2"),  # any other character is allowed
])
def test_program_code_is_written_as_given(code, written):
    assert detail(graduate(program_code=code))["AA"] == written


NO_DASHES = ": a program code may have no quotes, dashes or hyphens (separate several values with _ or .)"


@pytest.mark.parametrize("code, problem", [
    ("AP-CTE", "has the program code 'AP-CTE' with -" + NO_DASHES),
    ("AP–CTE—IB", "has the program code 'AP–CTE—IB' with – —" + NO_DASHES),  # en and em dash
    ("O'Neil \"AP\"", "has the program code 'O\\'Neil \"AP\"' with ' \"" + NO_DASHES),
    ("X" * 51, "has a program code longer than 50 characters"),
    ("AP\tCTE", "has a program code ('AP\\tCTE') with characters the file cannot carry"),
    ("Técnico", "has a program code ('Técnico') with characters the file cannot carry"),
])
def test_program_codes_that_break_the_published_rule(code, problem):
    assert problems(graduate(program_code=code)) == [f"graduate 1 (Álvarez, Ana) {problem}"]


def test_everything_that_cannot_be_written_is_named():
    graduates = [graduate(" "), graduate("S1002"), graduate("S1002", first_name="Ben"), graduate("X" * 51),
                 graduate("S1005", last_name="  ", high_school_code=""), graduate("S1006\t7"),
                 graduate("S1007", high_school_code="36123", diploma_type=" ", program_code="AP-CTE",
                          graduated_on=date(2023, 6, 9))]
    header = dataclasses.replace(HEADER, account_code=" ", account_name="")
    assert problems(*graduates, header=header) == [
        "the header has no account code",
        "the header has no account name",
        "graduate 1 (Álvarez, Ana) has no student ID",
        "graduate 3 (Álvarez, Ben) has the student ID S1002 of graduate 2",
        "graduate 4 (Álvarez, Ana) has a student ID longer than the 50 characters the Clearinghouse returns",
        "graduate 5 (  , Ana) has no last name that can be written in the file",
        "graduate 5 (  , Ana) has no high school ACT code",
        "graduate 6 (Álvarez, Ana) has a student ID ('S1006\\t7') with characters the file cannot carry",
        # four problems on one graduate: all of them
        ("graduate 7 (Álvarez, Ana) has the high school ACT code '36123'; an ACT code is 6 letters or digits "
         "(leading zeros kept)"),
        "graduate 7 (Álvarez, Ana) has no diploma type",
        "graduate 7 (Álvarez, Ana) has the program code 'AP-CTE' with -" + NO_DASHES,
        "graduate 7 (Álvarez, Ana) graduated on 20230609, outside the diploma period 2024",
    ]


def test_a_file_without_graduates_is_not_written():
    assert problems() == ["there are no graduates: a graduates file needs at least one"]


@pytest.mark.parametrize("period", ["24", "2024-2025", "20240631-20241231", "20241231-20240101", "", "2024/2025"])
def test_a_diploma_period_that_is_neither_a_year_nor_a_range(period):
    # with no period to compare against, the graduation dates are not checked
    assert problems(graduate(), header=dataclasses.replace(HEADER, diploma_period=period)) == [
        (f"the diploma period is {period!r}; it must be a graduation year (such as 2024) or a date range "
         "YYYYMMDD-YYYYMMDD, first date first")]


def test_a_range_period_takes_the_graduates_within_it_first_and_last_days_included():
    header = dataclasses.replace(HEADER, diploma_period="20230609-20240607")
    text = graduates_file(header, [graduate("S1"), graduate("S2", graduated_on=date(2023, 6, 9))])
    assert text.splitlines()[0].endswith("\t20230609-20240607")
    assert problems(graduate(graduated_on=date(2024, 6, 8)), header=header) == [
        "graduate 1 (Álvarez, Ana) graduated on 20240608, outside the diploma period 20230609-20240607"]


@pytest.mark.parametrize("dates, period", [
    ([CLASS_OF_2024], "2024"),
    ([CLASS_OF_2024, date(2024, 1, 19), date(2024, 8, 2)], "2024"),  # mid-year and summer graduates: one year
    ([CLASS_OF_2024, date(2023, 6, 9), date(2025, 6, 6), CLASS_OF_2024], "20230609-20250606"),  # several years
    ([date(2025, 1, 17), CLASS_OF_2024], "20240607-20250117"),  # one school year across two calendar years
])
def test_diploma_period_of_the_graduation_dates(dates, period):
    assert diploma_period(dates) == period
    graduates = [graduate(f"S{n}", graduated_on=day) for n, day in enumerate(dates)]
    graduates_file(dataclasses.replace(HEADER, diploma_period=period), graduates)  # every graduate within it


def test_diploma_period_of_no_dates():
    with pytest.raises(ValueError, match="at least one graduation date"):
        diploma_period([])


# ---------------------------------------------------------------- the detail report

def test_good_detail_report_field_by_field():
    report = parse_detail_report(read("detail_good.csv"))
    assert report.errors == ()
    assert [(r.row, r.student_id) for r in report.records] == [
        (2, "S1001"), (3, "S1001"), (4, "S1001"), (5, "S1002"), (6, "S1003"), (7, "S1003"), (8, "S1004"),
        (9, "S1005"), (10, "S1006"), (11, "S1006")]
    term, degree, not_found, private = report.records[0], report.records[5], report.records[6], report.records[8]
    assert term == EnrollmentRecord(
        row=2, student_id="S1001", unique_identifier="000101", first_name="ANA", middle_initial="M",
        last_name="ALVAREZ", name_suffix=None, found=True, search_date=date(2024, 6, 7), college_code="003956-00",
        college_name="RIVERSIDE STATE UNIVERSITY", college_state="OH", college_level="4", public=True,
        enrollment_begin=date(2024, 8, 26), enrollment_end=date(2024, 12, 13), enrollment_status="F",
        class_level="F", enrollment_major="BIOLOGY", graduated=False, graduation_date=None, degree_title=None,
        degree_major=None, college_sequence=1)
    assert degree == EnrollmentRecord(
        row=7, student_id="S1003", unique_identifier="000103", first_name="CARA", middle_initial="J",
        last_name="CHEN", name_suffix=None, found=True, search_date=date(2024, 6, 7), college_code="067890-00",
        college_name="LAKESHORE TECHNICAL COLLEGE", college_state="MI", college_level="2", public=True,
        enrollment_begin=None, enrollment_end=None, enrollment_status=None, class_level=None,
        enrollment_major=None, graduated=True, graduation_date=date(2025, 5, 16),
        degree_title="CERTIFICATE IN WELDING TECHNOLOGY", degree_major="WELDING TECHNOLOGY", college_sequence=1)
    # searched and not found: kept, so an importer can record that the student was searched
    assert not_found == EnrollmentRecord(
        row=8, student_id="S1004", unique_identifier="000104", first_name="DEV", middle_initial=None,
        last_name="PATEL", name_suffix=None, found=False, search_date=date(2024, 6, 7), college_code=None,
        college_name=None, college_state=None, college_level=None, public=None, enrollment_begin=None,
        enrollment_end=None, enrollment_status=None, class_level=None, enrollment_major=None, graduated=False,
        graduation_date=None, degree_title=None, degree_major=None, college_sequence=None)
    assert (private.college_name, private.public, report.records[3].name_suffix) == (
        "ST. BRENDAN COLLEGE, ERIE", False, "JR")
    assert report.records[9].college_sequence == 2


def test_headers_in_any_case_with_spaces_and_a_byte_order_mark():
    text = read("detail_bom.csv")
    assert text.startswith("\ufeff your unique identifier ,FIRST NAME")
    report = parse_detail_report(text)
    assert report.errors == ()
    [record] = report.records
    assert (record.unique_identifier, record.first_name, record.student_id, record.found, record.public,
            record.enrollment_status, record.graduated, record.enrollment_end) == (
        "000101", "ANA", "S1001", True, True, "F", False, date(2024, 12, 13))


def test_bad_rows_each_get_one_row_numbered_message():
    report = parse_detail_report(read("detail_bad_rows.csv"))
    assert [e.describe() for e in report.errors] == [
        ("row 3: Requester Return Field (the student ID the district sent) is blank, so the row cannot be matched "
         "to a student"),
        "row 5: Enrollment End 20250231 is not a real date",
        'row 6: Enrollment Begin "2024-08-26" is not a date written YYYYMMDD (such as 20240826)',
        "row 7: Enrollment End 20241213 is before Enrollment Begin 20250113",
        'row 8: 2-year / 4-year is "3"; it must be 4, 2 or L',
        'row 9: Public / Private is "Charter"; it must be Public or Private',
        'row 10: Record Found Y/N is "X"; it must be Y or N',
        'row 11: Graduated? is "maybe"; it must be Y or N',
        ("row 12: Record Found is N (no college record for this student), yet College Code/Branch, College Name "
         "are filled in"),
        "row 13: repeats row 2: the same student (S2001), college (003956-00) and Enrollment Begin (20240826)",
        "row 14: Record Found is Y but College Code/Branch is blank",
        "row 15: Graduated? is Y but Graduation Date is blank",
        # two problems on one row: one message
        ('row 16: Search Date 20241301 is not a real date; Enrollment Status is "Z"; it must be one of F, Q, H, L, '
         "A, W, D or blank"),
        ("row 17: the row has 34 values but the header has 33 columns (a comma inside a value that is not in "
         "quotes?)"),
        "row 18: Enrollment End is blank on an enrollment row (Graduated? is N)",
        # row 19 is blank: skipped, but counted, as a spreadsheet shows it
        "row 20: Search Date is blank",
    ]
    # row 4 names a student the district may not have: the importer checks that
    assert [(r.row, r.student_id, r.found) for r in report.records] == [
        (2, "S2001", True), (4, "S9999", True), (21, "S2018", False)]


def test_a_term_may_end_on_the_day_it_begins():
    header, first_row = read("detail_good.csv").splitlines()[:2]
    one_day = first_row.replace("20240826,20241213", "20240826,20240826")
    [record] = parse_detail_report(f"{header}\n{one_day}\n").records
    assert (record.enrollment_begin, record.enrollment_end) == (date(2024, 8, 26), date(2024, 8, 26))


def test_missing_column_is_one_file_level_error():
    report = parse_detail_report(read("detail_missing_column.csv"))
    assert report.records == ()
    assert [e.describe() for e in report.errors] == [
        'file: the file has no column "Enrollment End", which every StudentTracker detail report has']


@pytest.mark.parametrize("text, message", [
    (read("detail_empty.csv"), "file: the file is empty: it has no header row and no rows"),
    ("\ufeff\r\n  \r\n", "file: the file is empty: it has no header row and no rows"),
    (read("detail_good.csv").splitlines()[0] + "\n", "file: the file has a header but no rows"),
    ("H1\t361234\t00\tNorthfield High School\t20250915\tSE\tI\n",
     ('file: the first row is not the header of a StudentTracker detail report (it has none of the columns '
      '"Requester Return Field", "Record Found Y/N", ...)')),
    (read("detail_good.csv").replace("Search Date,", "Search Date,search  date,", 1),
     'row 1: the column "Search Date" appears twice in the header'),
    ("Requester Return Field,Record Found Y/N\nS1001," + "x" * 200_000 + "\n",
     "row 2: the file cannot be read as CSV from here on (field larger than field limit (131072))"),
])
def test_unusable_files(text, message):
    report = parse_detail_report(text)
    assert report.records == ()
    assert [e.describe() for e in report.errors] == [message]
