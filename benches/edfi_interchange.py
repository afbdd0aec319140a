#!/usr/bin/env python3
"""Write an Ed-Fi Data Standard 5.2 interchange from a canonical exception-mode snapshot.

    python3 benches/edfi_interchange.py SNAPSHOT_DIR OUT_DIR

SNAPSHOT_DIR is a snapshot written by `ews generate --shape sis` (students.csv, enrollment.csv,
calendar.csv, attendance.csv). OUT_DIR gets, in the style of the Ed-Fi "Grand Bend" sample XML
(shared/external/edfi-grand-bend: namespace http://ed-fi.org/5.2.0, tab indents, identity
references):

    Student.xml                 Student: StudentUniqueId, Name, BirthData
    StudentEnrollment.xml       StudentSchoolAssociation per enrollment.csv row
    EducationOrgCalendar.xml    per school a Session (the whole year, Term "Year Round"), a
                                Calendar ("CAL-" + school_id) and a CalendarDate per calendar row
    StudentAttendance.xml       StudentSchoolAttendanceEvent per attendance.csv row, except the
                                S rows (Ed-Fi has no suspension category: skipped and counted)
    EducationOrganization.xml   School: NameOfInstitution, category, SchoolId, grade levels

Standard library only; every file is written as it is read (attendance.csv is never held in
memory), so a district of 100,000 students (about 2.5 million attendance rows) converts in
seconds of CPU per million rows and a few MB of memory. Prints the counts written.
"""
import csv
import os
import sys
import time
from collections import defaultdict

NS = ('xmlns="http://ed-fi.org/5.2.0" xmlns:ann="http://ed-fi.org/annotation" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
      'xsi:schemaLocation="http://ed-fi.org/5.2.0 ../../Schemas/Bulk/Interchange-{}.xsd"')

GRADE = {"PK": "Preschool/Prekindergarten", "KG": "Kindergarten"}
GRADE.update({f"{i:02d}": f"{ordinal} grade" for i, ordinal in enumerate(
    ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth",
     "Tenth", "Eleventh", "Twelfth"], start=1)})
GRADE_ORDER = ["PK", "KG"] + [f"{i:02d}" for i in range(1, 13)]

CATEGORY = {
    "P": "In Attendance",
    "T": "Tardy",
    "E": "Excused Absence",
    "A": "Unexcused Absence",
}
BUFFER = 1 << 20


def esc(text):
    """Escape XML text content (only &, < and > matter outside attributes)."""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def grade_key(level):
    """The canonical grade level ("9", "09", "KG", "pk") as the key of GRADE."""
    level = level.strip().upper()
    if level.isdigit():
        level = f"{int(level):02d}"
    return level


def grade_descriptor(level):
    name = GRADE.get(grade_key(level))
    if name is None:
        raise SystemExit(f"unknown grade level {level!r} (expected PK, KG or 1-12)")
    return f"uri://ed-fi.org/GradeLevelDescriptor#{name}"


def rows(path):
    """The rows of a CSV file as dicts (header names stripped of a BOM)."""
    f = open(path, newline="", encoding="utf-8-sig")
    return csv.DictReader(f)


def open_interchange(out_dir, file_name, interchange, xsd):
    f = open(os.path.join(out_dir, file_name), "w", encoding="utf-8", newline="\n",
             buffering=BUFFER)
    f.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{interchange} {NS.format(xsd)}>\n')
    return f


def school_ref(school_id, indent):
    t = "\t" * indent
    return (f"{t}<SchoolReference>\n{t}\t<SchoolIdentity>\n{t}\t\t<SchoolId>{school_id}</SchoolId>\n"
            f"{t}\t</SchoolIdentity>\n{t}</SchoolReference>\n")


def student_ref(student_id, indent):
    t = "\t" * indent
    return (f"{t}<StudentReference>\n{t}\t<StudentIdentity>\n{t}\t\t<StudentUniqueId>{student_id}"
            f"</StudentUniqueId>\n{t}\t</StudentIdentity>\n{t}</StudentReference>\n")


def school_year(first_date):
    """The Ed-Fi SchoolYearType of a year whose first day is first_date ("2025-08-18" → 2025-2026)."""
    year, month = int(first_date[:4]), int(first_date[5:7])
    start = year if month >= 7 else year - 1
    return f"{start}-{start + 1}"


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    src, out = argv[1], argv[2]
    os.makedirs(out, exist_ok=True)
    started = time.monotonic()
    counts = {}

    # Calendar first: the session of each school is referenced by every attendance event.
    calendar = defaultdict(list)  # school_id -> [(date, instructional)] in file order
    for r in rows(os.path.join(src, "calendar.csv")):
        flag = r["instructional"].strip().upper()
        if flag not in ("Y", "N"):
            raise SystemExit(f"calendar.csv: instructional {r['instructional']!r} is not Y or N")
        calendar[r["school_id"]].append((r["date"], flag))
    sessions = {}  # school_id -> (session name, school year)
    with open_interchange(out, "EducationOrgCalendar.xml", "InterchangeEducationOrgCalendar",
                          "EducationOrgCalendar") as f:
        for sid, days in calendar.items():
            first, last = min(d for d, _ in days), max(d for d, _ in days)
            year = school_year(first)
            name = f"{year} Year Round"
            sessions[sid] = (name, year)
            f.write(f"\t<Session>\n\t\t<SessionName>{name}</SessionName>\n"
                    f"\t\t<SchoolYear>{year}</SchoolYear>\n\t\t<BeginDate>{first}</BeginDate>\n"
                    f"\t\t<EndDate>{last}</EndDate>\n"
                    f"\t\t<Term>uri://ed-fi.org/TermDescriptor#Year Round</Term>\n"
                    f"\t\t<TotalInstructionalDays>{sum(1 for _, y in days if y == 'Y')}"
                    f"</TotalInstructionalDays>\n{school_ref(sid, 2)}\t</Session>\n")
        dates = 0
        for sid, days in calendar.items():
            code, year = f"CAL-{sid}", sessions[sid][1]
            f.write(f"\t<Calendar>\n\t\t<CalendarCode>{code}</CalendarCode>\n"
                    f"\t\t<CalendarType>uri://ed-fi.org/CalendarTypeDescriptor#School</CalendarType>\n"
                    f"{school_ref(sid, 2)}\t\t<SchoolYear>{year}</SchoolYear>\n\t</Calendar>\n")
            tail = (f"\t\t<CalendarReference>\n\t\t\t<CalendarIdentity>\n"
                    f"\t\t\t\t<CalendarCode>{code}</CalendarCode>\n{school_ref(sid, 4)}"
                    f"\t\t\t\t<SchoolYear>{year}</SchoolYear>\n\t\t\t</CalendarIdentity>\n"
                    f"\t\t</CalendarReference>\n\t</CalendarDate>\n")
            event = {
                "Y": "\t\t<CalendarEvent>uri://ed-fi.org/CalendarEventDescriptor#Instructional day"
                     "</CalendarEvent>\n",
                "N": "\t\t<CalendarEvent>uri://ed-fi.org/CalendarEventDescriptor#Non-instructional day"
                     "</CalendarEvent>\n",
            }
            for date, flag in days:
                f.write(f"\t<CalendarDate>\n\t\t<Date>{date}</Date>\n{event[flag]}{tail}")
            dates += len(days)
        f.write("</InterchangeEducationOrgCalendar>\n")
    counts["Session"] = counts["Calendar"] = len(calendar)
    counts["CalendarDate"] = dates

    # Students; the schools' names and grade levels are collected on the way.
    school_names, school_grades = {}, defaultdict(set)
    no_birth = 0
    with open_interchange(out, "Student.xml", "InterchangeStudent", "Student") as f:
        n = 0
        for r in rows(os.path.join(src, "students.csv")):
            sid = r.get("school_id", "")
            if sid:
                if r.get("school_name") and sid not in school_names:
                    school_names[sid] = r["school_name"]
                if r.get("grade_level"):
                    school_grades[sid].add(grade_key(r["grade_level"]))
            birth = r.get("birth_date", "")
            if birth:
                birth = f"\t\t<BirthData>\n\t\t\t<BirthDate>{birth}</BirthDate>\n\t\t</BirthData>\n"
            else:
                no_birth += 1  # BirthData is required by the XSD: such a Student does not validate
            f.write(f"\t<Student>\n\t\t<StudentUniqueId>{esc(r['student_id'])}</StudentUniqueId>\n"
                    f"\t\t<Name>\n\t\t\t<FirstName>{esc(r['first_name'])}</FirstName>\n"
                    f"\t\t\t<LastSurname>{esc(r['last_name'])}</LastSurname>\n\t\t</Name>\n"
                    f"{birth}\t</Student>\n")
            n += 1
        f.write("</InterchangeStudent>\n")
    counts["Student"] = n

    # Enrollment, in the element order of Ed-Fi-Core.xsd's StudentSchoolAssociation.
    with open_interchange(out, "StudentEnrollment.xml", "InterchangeStudentEnrollment",
                          "StudentEnrollment") as f:
        n = exits = 0
        for r in rows(os.path.join(src, "enrollment.csv")):
            sid = r["school_id"]
            level = r.get("entry_grade_level", "")
            if not level:
                raise SystemExit(f"enrollment.csv: {r['student_id']} at {sid} has no "
                                 "entry_grade_level (EntryGradeLevel is required)")
            school_grades[sid].add(grade_key(level))
            exit_date, exit_code = r.get("exit_date", ""), r.get("exit_code", "")
            tail = ""
            if exit_date:
                tail += f"\t\t<ExitWithdrawDate>{exit_date}</ExitWithdrawDate>\n"
                exits += 1
            if exit_code:
                tail += (f"\t\t<ExitWithdrawType>uri://ed-fi.org/ExitWithdrawTypeDescriptor#"
                         f"{esc(exit_code)}</ExitWithdrawType>\n")
            f.write(f"\t<StudentSchoolAssociation>\n{student_ref(esc(r['student_id']), 2)}"
                    f"{school_ref(sid, 2)}\t\t<EntryDate>{r['entry_date']}</EntryDate>\n"
                    f"\t\t<EntryGradeLevel>{grade_descriptor(level)}</EntryGradeLevel>\n"
                    f"{tail}\t</StudentSchoolAssociation>\n")
            n += 1
        f.write("</InterchangeStudentEnrollment>\n")
    counts["StudentSchoolAssociation"] = n
    counts["  of which with ExitWithdrawDate"] = exits

    # Schools: every school seen in a calendar, a student or an enrollment.
    schools = sorted(set(calendar) | set(school_names) | set(school_grades))
    with open_interchange(out, "EducationOrganization.xml", "InterchangeEducationOrganization",
                          "EducationOrganization") as f:
        for sid in schools:
            grades = [g for g in GRADE_ORDER if g in school_grades[sid]] or ["09"]
            levels = "".join(f"\t\t<GradeLevel>uri://ed-fi.org/GradeLevelDescriptor#{GRADE[g]}"
                             f"</GradeLevel>\n" for g in grades)
            name = esc(school_names.get(sid, f"School {sid}"))
            f.write(f"\t<School>\n\t\t<NameOfInstitution>{name}</NameOfInstitution>\n"
                    f"\t\t<EducationOrganizationCategory>uri://ed-fi.org/"
                    f"EducationOrganizationCategoryDescriptor#School</EducationOrganizationCategory>\n"
                    f"\t\t<SchoolId>{sid}</SchoolId>\n{levels}\t</School>\n")
        f.write("</InterchangeEducationOrganization>\n")
    counts["School"] = len(schools)

    # Attendance, streamed: per school the SchoolReference and SessionReference are one string.
    school_tail = {}
    for sid, (name, year) in sessions.items():
        school_tail[sid] = (
            f"{school_ref(sid, 2)}\t\t<SessionReference>\n\t\t\t<SessionIdentity>\n"
            f"\t\t\t\t<SessionName>{name}</SessionName>\n\t\t\t\t<SchoolYear>{year}</SchoolYear>\n"
            f"{school_ref(sid, 4)}\t\t\t</SessionIdentity>\n\t\t</SessionReference>\n"
            f"\t</StudentSchoolAttendanceEvent>\n")
    category = {code: (f"</EventDate>\n\t\t\t<AttendanceEventCategory>uri://ed-fi.org/"
                       f"AttendanceEventCategoryDescriptor#{name}</AttendanceEventCategory>\n"
                       f"\t\t\t<EventDuration>") for code, name in CATEGORY.items()}
    head = "\t<StudentSchoolAttendanceEvent>\n\t\t<AttendanceEvent>\n\t\t\t<EventDate>"
    mid = ("</EventDuration>\n\t\t</AttendanceEvent>\n\t\t<StudentReference>\n"
           "\t\t\t<StudentIdentity>\n\t\t\t\t<StudentUniqueId>")
    mid2 = "</StudentUniqueId>\n\t\t\t</StudentIdentity>\n\t\t</StudentReference>\n"
    by_code = dict.fromkeys(CATEGORY, 0)
    suspended = no_session = 0
    with open(os.path.join(src, "attendance.csv"), newline="", encoding="utf-8-sig") as inp, \
            open_interchange(out, "StudentAttendance.xml", "InterchangeStudentAttendance",
                             "StudentAttendance") as f:
        reader = csv.reader(inp)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        i_student, i_school, i_date, i_code = (col["student_id"], col["school_id"], col["date"],
                                               col["code"])
        i_fraction = col.get("day_fraction")
        write = f.write
        for r in reader:
            if not r:
                continue
            code = r[i_code]
            cat = category.get(code)
            if cat is None:
                if code == "S":
                    suspended += 1
                    continue
                raise SystemExit(f"attendance.csv: unknown code {code!r}")
            tail = school_tail.get(r[i_school])
            if tail is None:
                no_session += 1
                continue
            duration = (r[i_fraction] if i_fraction is not None else "") or "1"
            student = r[i_student]
            if "&" in student or "<" in student or ">" in student:
                student = esc(student)
            write(f"{head}{r[i_date]}{cat}{duration}{mid}{student}{mid2}{tail}")
            by_code[code] += 1
        write("</InterchangeStudentAttendance>\n")
    counts["StudentSchoolAttendanceEvent"] = sum(by_code.values())
    for code, name in CATEGORY.items():
        counts[f"  {name} ({code})"] = by_code[code]

    elapsed = time.monotonic() - started
    print(f"Ed-Fi 5.2 interchange of {src} written to {out} in {elapsed:.1f} s")
    width = max(len(k) for k in counts)
    for k, v in counts.items():
        print(f"  {k:<{width}}  {v:>10,}")
    print(f"  attendance rows coded S skipped (Ed-Fi has no suspension category): {suspended:,}")
    if no_session:
        print(f"  attendance rows skipped, their school has no calendar (no Session): {no_session:,}")
    if no_birth:
        print(f"  students without birth_date: {no_birth:,} (BirthData omitted; the XSD requires it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
