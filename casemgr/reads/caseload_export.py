"""The caseload as a file (CSV or Excel) or a printed page: the same students, filters,
search, sort and scope as the page, all pages up to `EXPORT_CAP`, and the same columns."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from xml.sax.saxutils import escape

from casemgr.reads.caseload import CaseloadPage, CaseloadRow

# a school's whole caseload fits (the largest high schools have about 4,000 students);
# a district admin exporting the district is asked to pick a school or a filter
EXPORT_CAP = 5_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def columns(with_school: bool, since: date) -> list[str]:
    return (["Last name", "First name", "State ID", "Grade"] + (["School"] if with_school else [])
            + ["Tier", "Why", f"Change since {since.isoformat()}", "Attendance %", "Attendance band", "Course failures", "Failing English or math",
               "Credits earned", "Credits expected", "FAFSA", "Open flags"])


def cells(row: CaseloadRow, with_school: bool) -> list:
    student, i = row.student, row.indicator
    values = [student.last_name, student.preferred_name or student.first_name, student.state_id, student.grade_label]
    if with_school:
        values.append(row.school_name)
    if i is None:
        values += [None] * 10
    else:
        values += [
            i.tier, ", ".join(i.reasons), ", ".join(row.change),
            float(round(i.attendance_rate * 100, 1)) if i.attendance_rate is not None else None,
            (i.attendance_band or "").replace("_", " ") or None, i.course_failures, "yes" if i.core_failure else "no",
            float(i.credits_earned) if i.credits_earned is not None else None,
            float(i.credits_expected) if i.credits_expected is not None else None,
            ((i.fafsa_status or "").replace("_", " ") + (" (off track)" if i.fafsa_off_track else "")) or None,
        ]
    values.append(row.open_flags)
    return values


def safe(value):
    """A text cell a spreadsheet would run as a formula is kept as text: a leading
    apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(result: CaseloadPage, with_school: bool, since: date) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns(with_school, since))
    for row in result.rows:
        writer.writerow(["" if v is None else safe(v) for v in cells(row, with_school)])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM: Excel then reads the names as UTF-8


# An Excel workbook of one sheet, its XML written directly: openpyxl took half a second
# for 1,000 rows, this a twentieth of that. Text goes in inline string cells, which a
# spreadsheet never runs as a formula, so names are kept exactly as they are.
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PACKAGE_REL}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{_REL}/officeDocument"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PACKAGE_REL}">'
        f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{_REL}/worksheet"/>'
        f'<Relationship Id="rId2" Target="styles.xml" Type="{_REL}/styles"/></Relationships>'),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs></styleSheet>'),
}
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _column(n: int) -> str:
    letters = ""
    while n >= 0:
        letters, n = chr(65 + n % 26) + letters, n // 26 - 1
    return letters


def _cell(ref: str, value, style: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = escape(_NOT_IN_XML.sub("", str(value)))
        return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{ref}"{style}><v>{value}</v></c>'


def as_xlsx(result: CaseloadPage, with_school: bool, since: date, title: str) -> bytes:
    names = columns(with_school, since)
    refs = [_column(n) for n in range(len(names))]
    bold = ' s="1"'
    lines = [f'<row r="1">{"".join(_cell(f"{r}1", v, bold) for r, v in zip(refs, names))}</row>']
    for number, row in enumerate(result.rows, start=2):
        lines.append(f'<row r="{number}">'
                     f'{"".join(_cell(f"{r}{number}", v) for r, v in zip(refs, cells(row, with_school)))}</row>')
    sheet = (f'<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
             f'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>{"".join(lines)}'
             '</sheetData></worksheet>')
    workbook = (f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets><sheet name="{escape(title[:31])}" sheetId="1" '
                'r:id="rId1"/></sheets></workbook>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, xml in {**_PARTS, "xl/workbook.xml": workbook, "xl/worksheets/sheet1.xml": sheet}.items():
            book.writestr(name, _XML + xml)
    return out.getvalue()
