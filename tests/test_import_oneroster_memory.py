"""A district's OneRoster bundle is read in bounded memory: users.csv, demographics.csv
and enrollments.csv are read row by row from disk and translated to files on disk, so a
bundle of 100,000 students and 500,000 enrollments (about 70 MB of CSV) adds far less to
the reader's memory than holding its rows would (well over 500 MB as Python dicts)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDENTS, CLASSES, PER_STUDENT = 100_000, 5_000, 5

SCRIPT = """
import resource, sys, tempfile
from datetime import date
from pathlib import Path
from casemgr.importers.oneroster_bundle import read_bundle
from casemgr.importers.oneroster_sheets import Lookups
from casemgr.importers.oneroster_translate import translate
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with tempfile.TemporaryDirectory() as folder:
    bundle = read_bundle(Path(sys.argv[1]), Path(folder) / 'bundle')
    lookups = Lookups({'org-a': 'S1'}, {}, {2026: (date(2026, 8, 1), date(2027, 6, 30))})
    roster = translate(bundle, lookups, Path(folder), date(2026, 9, 1))
    print(roster.students.rows, roster.enrollments.rows, roster.error_total)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""


def write_bundle(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("manifest.csv", "propertyName,value\noneroster.version,1.1\nfile.courses,absent\n")
        out.writestr("orgs.csv", "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
                                 "org-a,,,A,school,S1,\n")
        out.writestr("academicSessions.csv", "sourcedId,status,dateLastModified,title,type,startDate,endDate,"
                                             "parentSourcedId,schoolYear\nas-y,,,Y,schoolYear,2026-08-17,2027-06-11,,2027\n")
        with out.open("classes.csv", "w") as f:
            f.write(b"sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
                    b"schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n")
            f.write(b"".join(b"cl-%d,,,Class %d,10,,C%d,scheduled,,org-a,as-y,Math,,1\n" % (n, n, n)
                             for n in range(CLASSES)))
        with out.open("users.csv", "w") as f:
            f.write(b"sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
                    b"familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n")
            for start in range(0, STUDENTS, 10_000):
                f.write(b"".join(b"u-%08d,,,true,org-a,student,L%d,,Given%d,Family%d,,ST%08d,,,,,10,\n" % (n, n, n, n, n)
                                 for n in range(start, start + 10_000)))
        with out.open("demographics.csv", "w") as f:
            f.write(b"sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
                    b"blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
                    b"hispanicOrLatinoEthnicity\n")
            for start in range(0, STUDENTS, 10_000):
                f.write(b"".join(b"u-%08d,,,2010-01-02,female,false,false,false,false,true,false,false\n" % n
                                 for n in range(start, start + 10_000)))
        with out.open("enrollments.csv", "w") as f:
            f.write(b"sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
                    b"beginDate,endDate\n")
            for start in range(0, STUDENTS, 10_000):
                f.write(b"".join(b"en-%d-%d,,,cl-%d,org-a,u-%08d,student,false,2026-08-17,\n"
                                 % (n, k, (n * PER_STUDENT + k) % CLASSES, n)
                                 for n in range(start, start + 10_000) for k in range(PER_STUDENT)))


def test_a_large_bundle_is_translated_in_bounded_memory(tmp_path):
    path = tmp_path / "district.zip"
    write_bundle(path)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    counts, grown = done.stdout.split("\n")[:2]
    assert counts == f"{STUDENTS} {STUDENTS * PER_STUDENT} 0"
    # the translation's lookups (a sourcedId -> state ID per student, a few demographics values, row numbers)
    # and one member's bytes while it is unpacked, not the rows
    assert int(grown) < 160, f"reading and translating the bundle grew the process by {grown} MB"
