//! The synthetic district's fixed lists: school and counselor names, first and last names,
//! race and gender shares, courses, incident types, the header of each file it writes, and
//! the words of the SIS shapes (grade levels, exit codes, snapshot.toml).

pub(super) const SCHOOL_NAMES: [&str; 12] = [
    "Lincoln High School",
    "Dr. Martin Luther King, Jr. High School",
    "Roosevelt High School",
    "Jefferson High School",
    "César Chávez High School",
    "Washington High School",
    "Sandra Day O'Connor High School",
    "Kennedy High School",
    "Franklin High School",
    "Madison High School",
    "Central High School",
    "Riverside High School",
];

/// The K–8 schools of the SIS shapes; a district with more gets campuses of these.
pub(super) const ELEMENTARY_NAMES: [&str; 10] = [
    "Maple Grove Elementary School",
    "Sor Juana Inés de la Cruz Elementary School",
    "Harriet Tubman Elementary School",
    "Oakwood Elementary School",
    "Lakeview Elementary School",
    "Sequoyah Elementary School",
    "Cedar Hills Elementary School",
    "Mary McLeod Bethune Elementary School",
    "Willow Creek Elementary School",
    "Sunnyside Elementary School",
];

pub(super) const MIDDLE_NAMES: [&str; 6] = [
    "Thurgood Marshall Middle School",
    "Eastside Middle School",
    "Sally Ride Middle School",
    "Hillcrest Middle School",
    "Frederick Douglass Middle School",
    "Westview Middle School",
];

pub(super) const COUNSELORS: [&str; 16] = [
    "Ms. Rivera",
    "Mr. Okafor",
    "Mrs. Chen",
    "Mr. Johansson",
    "Ms. Delgado",
    "Dr. Patel",
    "Ms. Kowalski",
    "Mr. Haddad",
    "Mrs. Washington",
    "Mr. Brennan",
    "Ms. Yamamoto",
    "Mr. Ortiz",
    "Ms. Abernathy",
    "Mr. Nakamura",
    "Mrs. Fitzgerald",
    "Ms. Oyelaran",
];

pub(super) const FIRST_F: [&str; 20] = [
    "Emma", "Olivia", "Sofía", "Ava", "Isabella", "Mia", "Zoë", "Harper", "Aaliyah", "Camila",
    "Chloé", "Grace", "Maya", "Nia", "Lucía", "Priya", "Hannah", "Leilani", "Amara", "Renée",
];

pub(super) const FIRST_M: [&str; 20] = [
    "Liam", "Noah", "José", "Elijah", "James", "Mateo", "Lucas", "Ethan", "Jamal", "Darius",
    "Mohammed", "Wei", "Diego", "Andre", "Kai", "Owen", "Isaiah", "Björn", "Carlos", "Tyrone",
];

pub(super) const LAST: [&str; 40] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "García",
    "Miller",
    "Davis",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "Lopez",
    "Muñoz",
    "Nguyễn",
    "O'Brien",
    "Kim",
    "Patel",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "Chen",
    "Wright",
    "Scott",
    "Washington",
    "Begay",
    "Kealoha",
    "Okafor",
    "Kowalski",
    "Haddad",
    "Reyes",
    "Flores",
    "Morales",
    "Novak",
];

/// (category, share, P(ELL)).
pub(super) const RACES: [(&str, f64, f64); 7] = [
    ("White", 0.42, 0.03),
    ("Hispanic or Latino", 0.28, 0.22),
    ("Black or African American", 0.15, 0.03),
    ("Asian", 0.07, 0.18),
    ("Two or More Races", 0.05, 0.03),
    ("American Indian or Alaska Native", 0.02, 0.03),
    ("Native Hawaiian or Other Pacific Islander", 0.01, 0.03),
];

pub(super) const GENDERS: [(&str, f64); 3] = [("F", 0.495), ("M", 0.495), ("X", 0.01)];
pub(super) const GRADE_SHARES: [f64; 4] = [0.27, 0.25, 0.24, 0.24];

/// (incident type, share, serious).
pub(super) const INCIDENT_TYPES: [(&str, f64, bool); 10] = [
    ("Disruptive Behavior", 0.25, false),
    ("Defiance", 0.18, false),
    ("Truancy", 0.12, false),
    ("Technology Misuse", 0.10, false),
    ("Harassment", 0.08, false),
    ("Vandalism", 0.04, false),
    ("Theft", 0.04, false),
    ("Fighting", 0.12, true),
    ("Substance", 0.05, true),
    ("Weapon", 0.02, true),
];
pub(super) const P_ISS: f64 = 0.35;

pub(super) struct Course {
    pub(super) subject: &'static str,
    pub(super) code: u32,
    /// Course name for grades 9..=12.
    pub(super) names: [&'static str; 4],
}

pub(super) const CORE: [Course; 4] = [
    Course {
        subject: "ELA",
        code: 1,
        names: [
            "English 9",
            "English 10",
            "American Literature",
            "English 12, British Literature",
        ],
    },
    Course {
        subject: "MATH",
        code: 2,
        names: ["Algebra I", "Geometry", "Algebra II", "Pre-Calculus"],
    },
    Course {
        subject: "SCI",
        code: 3,
        names: ["Biology", "Chemistry", "Physics", "Environmental Science"],
    },
    Course {
        subject: "SOC",
        code: 4,
        names: [
            "World Geography",
            "World History",
            "U.S. History",
            "Government & Economics",
        ],
    },
];

// Code 9 is reserved: credit-recovery course ids are "9" + the last four digits.
pub(super) const ELECTIVES: [Course; 5] = [
    Course {
        subject: "ART",
        code: 5,
        names: [
            "Art I",
            "Ceramics",
            "Theatre Arts \"Stagecraft\"",
            "Digital Photography",
        ],
    },
    Course {
        subject: "PE",
        code: 6,
        names: [
            "Physical Education",
            "Health & Wellness",
            "Lifetime Fitness",
            "Weight Training",
        ],
    },
    Course {
        subject: "WL",
        code: 7,
        names: ["Spanish I", "Spanish II", "Spanish III", "Spanish IV"],
    },
    Course {
        subject: "MUS",
        code: 8,
        names: ["Concert Band", "Chorus", "Jazz Ensemble", "Music Theory"],
    },
    Course {
        subject: "CTE",
        code: 10,
        names: [
            "Intro to Business",
            "Web Design",
            "Culinary Arts",
            "Automotive Technology",
        ],
    },
];

pub(super) const STUDENTS_HEADER: [&str; 14] = [
    "student_id",
    "first_name",
    "last_name",
    "school_id",
    "school_name",
    "grade_level",
    "birth_date",
    "cohort_year",
    "gender",
    "race_ethnicity",
    "ell",
    "sped",
    "econ_disadvantaged",
    "counselor",
];
pub(super) const ATTENDANCE_HEADER: [&str; 4] = ["student_id", "school_id", "date", "code"];
pub(super) const GRADES_HEADER: [&str; 10] = [
    "student_id",
    "school_id",
    "school_year",
    "term",
    "course_id",
    "course_name",
    "subject",
    "mark",
    "percent",
    "mark_date",
];
pub(super) const CREDITS_HEADER: [&str; 11] = [
    "student_id",
    "school_year",
    "term",
    "course_id",
    "course_name",
    "subject",
    "credits_attempted",
    "credits_earned",
    "mark",
    "completion_date",
    "credit_recovery",
];
pub(super) const BEHAVIOR_HEADER: [&str; 5] = [
    "student_id",
    "date",
    "incident_type",
    "suspension_type",
    "suspension_days",
];
pub(super) const OUTCOMES_HEADER: [&str; 3] = ["student_id", "outcome", "outcome_date"];

/// The SIS shapes' attendance.csv: the canonical columns and the share of the day a row covers.
pub(super) const SIS_ATTENDANCE_HEADER: [&str; 5] =
    ["student_id", "school_id", "date", "code", "day_fraction"];
pub(super) const ENROLLMENT_HEADER: [&str; 6] = [
    "student_id",
    "school_id",
    "entry_date",
    "exit_date",
    "exit_code",
    "entry_grade_level",
];
pub(super) const CALENDAR_HEADER: [&str; 4] = ["school_id", "date", "instructional", "periods"];
/// The SIS shapes' grades.csv: the canonical columns and the course's credits.
pub(super) const SIS_GRADES_HEADER: [&str; 11] = [
    "student_id",
    "school_id",
    "school_year",
    "term",
    "course_id",
    "course_name",
    "subject",
    "mark",
    "percent",
    "mark_date",
    "credits",
];
pub(super) const PERIOD_ATTENDANCE_HEADER: [&str; 5] =
    ["student_id", "school_id", "date", "period", "code"];

/// grade_level and entry_grade_level in the SIS shapes, for grades -1 (PK) to 12.
pub(super) const GRADE_LABELS: [&str; 14] = [
    "PK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
];

/// Exit codes of enrollment.csv: moved to another school of the district, transferred out of
/// the district, dropped out.
pub(super) const EXIT_MOVED: &str = "T1";
pub(super) const EXIT_TRANSFERRED_OUT: &str = "T2";
pub(super) const EXIT_DROPPED_OUT: &str = "DO";

/// snapshot.toml of the `sis` shape, whose attendance.csv lists exceptions only.
pub(super) const SNAPSHOT_TOML: &str =
    "# Written by ews generate: attendance.csv lists exceptions only.
[attendance]
mode = \"exceptions\"
";
