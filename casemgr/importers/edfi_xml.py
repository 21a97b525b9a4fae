"""Reading Ed-Fi Data Standard interchange files: safely, and as a stream.

An interchange is known by its root element's local name (InterchangeStudent,
InterchangeStudentEnrollment, InterchangeStudentAttendance), whatever the Data Standard
version's namespace ("http://ed-fi.org/3.2.0-c", "http://ed-fi.org/5.2.0", …); the
elements below it are found by local name too.

The parser is lxml's iterparse with the rules defusedxml applies: no DTD at all (a
<!DOCTYPE> is refused before the first record is read, which also refuses every entity
declaration, as in the "billion laughs"), no entity expansion, no network, no DTD
loading, and libxml2's limits on a node's size kept (huge_tree off). Each record is
cleared once read and the records before it dropped, so a year of attendance events
(~9 million) is read in bounded memory. Every XML error becomes one line.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import urlparse

from defusedxml import DTDForbidden
from lxml import etree

from casemgr.importers.base import RowError, Unreadable

XML_MESSAGE = "this is XML; casemgr imports CSV, OneRoster 1.1 bundles and Ed-Fi interchange files"
HARDENED = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
            "remove_comments": True, "remove_pis": True}

# each interchange casemgr reads: the element it imports, and the other elements its
# XSD allows at the top level (Data Standard 3.x to 5.x), which are counted and skipped
INTERCHANGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "InterchangeStudent": ("Student", ("Person",)),
    "InterchangeStudentEnrollment": ("StudentSchoolAssociation", (
        "StudentSectionAssociation", "GraduationPlan", "CrisisEvent",
        "StudentEducationOrganizationResponsibilityAssociation", "StudentEducationOrganizationAssociation",
        "StudentTransportation", "SectionReference")),
    "InterchangeStudentAttendance": ("StudentSchoolAttendanceEvent", (
        "StudentSectionAttendanceEvent", "StudentProgramAttendanceEvent", "StudentInterventionAttendanceEvent",
        "SectionAttendanceTakenEvent")),
}
EDFI_HOSTS = ("ed-fi.org", "www.ed-fi.org")

# the first element of an XML text, after a byte-order mark, the declaration, comments
# and a DOCTYPE: enough of the first bytes to tell XML from CSV
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*(<!DOCTYPE|<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>])",
                     re.DOTALL)
_POSITION = re.compile(r",? line \d+, column \d+$")


def xml_root(first: bytes) -> str | None:
    """The local name of the root element when `first` (the first bytes of a file) is
    the start of an XML text ("" when a DOCTYPE comes first), else None. UTF-16 text is
    read as its ASCII bytes."""
    for bom in _BOMS:
        if first.startswith(bom):
            first = first[len(bom):]
            if bom != _BOMS[0]:
                first = first.replace(b"\x00", b"")
            break
    match = _PROLOG.match(first)
    if match is None:
        return None
    return match.group(3).decode("ascii", "replace") if match.group(3) else ""


def xml_refusal(first: bytes) -> str | None:
    """The one line that refuses an XML file given where CSV is expected (None when
    `first` does not start an XML text): an Ed-Fi interchange is pointed to the `edfi`
    kind."""
    root = xml_root(first)
    if root is None:
        return None
    if root in INTERCHANGES:
        return f"{XML_MESSAGE}: this is an Ed-Fi {root} file; import it as edfi"
    return XML_MESSAGE


def unreadable(message: str) -> Unreadable:
    return Unreadable([RowError(None, None, message)])


def not_well_formed(error: etree.XMLSyntaxError) -> Unreadable:
    """One line for a parser error. When the exception has no line (it then says "no
    element found"), libxml2's last fatal error says what went wrong."""
    line, message = error.lineno, str(error.msg or error)
    fatal = error.error_log.filter_from_level(etree.ErrorLevels.FATAL) if not line and error.error_log else []
    if fatal:
        line, message = fatal[-1].line, fatal[-1].message
    message = _POSITION.sub("", (message.strip().splitlines() or ["unreadable"])[0])
    return unreadable(f"the file is not well-formed XML: line {line}: {message}")


def local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


_PATHS: dict[str, tuple[etree.XPath, etree.XPath]] = {}


def _path(path: str) -> tuple[etree.XPath, etree.XPath]:
    """Compiled XPaths, by local names whatever the namespace, to the text at `path` (local
    names separated by /) and to its element: one C-level evaluation per field."""
    if path not in _PATHS:
        steps = "/".join(f"*[local-name()='{name}']" for name in path.split("/"))
        _PATHS[path] = (etree.XPath(f"string({steps})"), etree.XPath(f"{steps}[1]"))
    return _PATHS[path]


@dataclass
class Record:
    ordinal: int  # 1 for the first element of its name in the file
    line: int
    element: etree._Element | None

    def text(self, path: str) -> str:
        """The text at `path` (local names separated by /), stripped; "" when absent."""
        return _path(path)[0](self.element).strip()

    def descriptor(self, path: str) -> str:
        """A descriptor reference: its URI ("uri://ed-fi.org/…Descriptor#Tardy") as Data
        Standard 3 and later write it, or (Data Standard 2) namespace#CodeValue."""
        found = _path(path)[1](self.element)
        if not found:
            return ""
        if (found[0].text or "").strip():
            return found[0].text.strip()
        record = Record(self.ordinal, self.line, found[0])
        code, namespace = record.text("CodeValue"), record.text("Namespace")
        return f"{namespace}#{code}" if namespace and code else code


def code_value(descriptor: str) -> tuple[str, str]:
    """(namespace, code value) of a descriptor reference: "uri://ed-fi.org/X#Tardy" is
    ("uri://ed-fi.org/X", "Tardy"); a bare code value has no namespace."""
    namespace, _, code = descriptor.rpartition("#")
    return namespace, code.strip()


def is_edfi_namespace(namespace: str) -> bool:
    """Whether a descriptor namespace is the Ed-Fi Alliance's own (or none is given)."""
    return not namespace or urlparse(namespace).netloc.lower() in EDFI_HOSTS


@dataclass
class Interchange:
    """An opened interchange file: its root's local name and namespace; `records()`
    streams the elements casemgr imports and counts the others in `skipped`."""

    file: BinaryIO
    name: str
    namespace: str
    skipped: Counter = field(default_factory=Counter)

    @property
    def element(self) -> str:
        return INTERCHANGES[self.name][0]

    def records(self) -> Iterator[Record]:
        imported, others = INTERCHANGES[self.name]
        self.file.seek(0)
        events = etree.iterparse(self.file, events=("end",), tag=[f"{{*}}{n}" for n in (imported, *others)],
                                 **HARDENED)
        ordinal = 0
        try:
            for _, element in events:
                parent = element.getparent()
                if parent is None or parent.getparent() is not None:
                    continue  # an element of the same name inside a record (a SectionReference)
                name = local(element.tag)
                if name == imported:
                    ordinal += 1
                    yield Record(ordinal, element.sourceline or 0, element)
                else:
                    self.skipped[name] += 1
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as error:
            raise not_well_formed(error) from None


def open_interchange(file: BinaryIO) -> Interchange:
    """Check that `file` is an Ed-Fi interchange casemgr reads, without a DTD (raises
    Unreadable with one line saying what it is instead)."""
    first = file.read(4096)
    file.seek(0)
    root_name = xml_root(first)
    if root_name is None:
        raise unreadable("this is not XML: an edfi import takes an Ed-Fi interchange file ("
                         + ", ".join(INTERCHANGES) + ")")
    try:
        if root_name == "":  # a DOCTYPE before the root: refused before the parser reads it
            raise DTDForbidden(None, None, None)
        _, root = next(etree.iterparse(file, events=("start",), **HARDENED))
        info = root.getroottree().docinfo
        if info.doctype or info.internalDTD is not None:
            raise DTDForbidden(info.root_name, info.system_url, info.public_id)
    except DTDForbidden:
        raise unreadable("the file declares a DTD (<!DOCTYPE …>): casemgr refuses XML with a DTD or entities, "
                         "which Ed-Fi interchange files never need") from None
    except etree.XMLSyntaxError as error:
        raise not_well_formed(error) from None
    except StopIteration:
        raise unreadable("the file is empty") from None
    qname = etree.QName(root.tag)
    name = qname.localname
    if name not in INTERCHANGES:
        if name.startswith("Interchange"):
            raise unreadable(f"this is an Ed-Fi {name} file; casemgr imports "
                             + ", ".join(INTERCHANGES) + " files")
        raise unreadable(f"{XML_MESSAGE} (this file's root element is <{name}>)")
    return Interchange(file, name, qname.namespace or "")
