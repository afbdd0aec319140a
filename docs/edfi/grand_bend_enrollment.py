#!/usr/bin/env python3
"""The hand step of the Grand Bend example (README, "Bringing your SIS export"): an
enrollment.csv for a snapshot imported from the Ed-Fi Grand Bend sample, which lacks its
StudentEnrollment interchange. A real district exports its enrollment spans instead; this
script stands in for that export and is not part of ews.

One span per student for the 2021-22 school year (entry 2021-08-23, no exit):
- school: the school of the student's attendance events; a student without events goes by age
  (the sample's birth dates run about two years young for their schools: see below);
- entry_grade_level: the grade the student's age gives on 2021-09-01 (age - 5), moved into the
  school's grades (high school 9-12: age grade + 2; middle 6-8: + 1; elementary PK-5: + 1).

Usage: python3 docs/edfi/grand_bend_enrollment.py SNAPSHOT  (writes SNAPSHOT/enrollment.csv)
"""
import csv
import datetime
import os
import sys

HIGH, MIDDLE, ELEMENTARY = "255901001", "255901044", "255901107"
# school -> (lowest grade, highest grade, offset from the age grade)
GRADES = {HIGH: (9, 12, 2), MIDDLE: (6, 8, 1), ELEMENTARY: (-1, 5, 1)}


def age_grade(birth):
    born = datetime.date.fromisoformat(birth)
    cutoff = datetime.date(2021, 9, 1)
    age = cutoff.year - born.year - ((cutoff.month, cutoff.day) < (born.month, born.day))
    return age - 5


def main(snapshot):
    schools = {}
    with open(os.path.join(snapshot, "attendance.csv"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            schools.setdefault(row["student_id"], row["school_id"])
    out = os.path.join(snapshot, "enrollment.csv")
    written = 0
    with open(os.path.join(snapshot, "students.csv"), newline="", encoding="utf-8") as f, open(
        out, "w", newline="", encoding="utf-8"
    ) as o:
        w = csv.writer(o)
        w.writerow(["student_id", "school_id", "entry_date", "exit_date", "exit_code", "entry_grade_level"])
        for row in csv.DictReader(f):
            grade = age_grade(row["birth_date"])
            school = schools.get(row["student_id"])
            if school is None:
                school = HIGH if grade >= 8 else MIDDLE if grade >= 4 else ELEMENTARY
            low, high, offset = GRADES[school]
            grade = min(max(grade + offset, low), high)
            level = {-1: "PK", 0: "K"}.get(grade, str(grade))
            w.writerow([row["student_id"], school, "2021-08-23", "", "", level])
            written += 1
    os.chmod(out, 0o600)
    print(f"wrote {out}: {written} spans")


if __name__ == "__main__":
    main(sys.argv[1])
