//! Ed-Fi descriptors mapped to the contract's values: a built-in table of the Ed-Fi
//! Alliance's default code values (`uri://ed-fi.org/GradeLevelDescriptor#Ninth grade` → `9`),
//! which a district extends or overrides in its config (`[edfi.descriptors.<Descriptor>]`,
//! code value → contract value). A value neither table knows is never guessed: the importer
//! counts it, and leaves the value blank or rejects the record, as each use says.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

/// The built-in table: (descriptor, code value, contract value). Code values match without
/// regard to case; the namespace before `#` is not compared, so a district's own namespace
/// with the Ed-Fi code values maps too.
const BUILT_IN: &[(&str, &str, &str)] = &[
    ("GradeLevelDescriptor", "Preschool/Prekindergarten", "PK"),
    ("GradeLevelDescriptor", "Transitional Kindergarten", "TK"),
    ("GradeLevelDescriptor", "Kindergarten", "K"),
    ("GradeLevelDescriptor", "First grade", "1"),
    ("GradeLevelDescriptor", "Second grade", "2"),
    ("GradeLevelDescriptor", "Third grade", "3"),
    ("GradeLevelDescriptor", "Fourth grade", "4"),
    ("GradeLevelDescriptor", "Fifth grade", "5"),
    ("GradeLevelDescriptor", "Sixth grade", "6"),
    ("GradeLevelDescriptor", "Seventh grade", "7"),
    ("GradeLevelDescriptor", "Eighth grade", "8"),
    ("GradeLevelDescriptor", "Ninth grade", "9"),
    ("GradeLevelDescriptor", "Tenth grade", "10"),
    ("GradeLevelDescriptor", "Eleventh grade", "11"),
    ("GradeLevelDescriptor", "Twelfth grade", "12"),
    ("AttendanceEventCategoryDescriptor", "In Attendance", "P"),
    ("AttendanceEventCategoryDescriptor", "Tardy", "T"),
    ("AttendanceEventCategoryDescriptor", "Excused Absence", "E"),
    (
        "AttendanceEventCategoryDescriptor",
        "Unexcused Absence",
        "A",
    ),
    ("CalendarEventDescriptor", "Instructional day", "Y"),
    ("CalendarEventDescriptor", "Make-up day", "Y"),
    (
        "CalendarEventDescriptor",
        "Student late arrival/early dismissal",
        "Y",
    ),
    ("CalendarEventDescriptor", "Holiday", "N"),
    ("CalendarEventDescriptor", "Teacher only day", "N"),
    ("CalendarEventDescriptor", "Non-instructional day", "N"),
    ("CalendarEventDescriptor", "Weather day", "N"),
    ("CalendarEventDescriptor", "Emergency day", "N"),
    ("CalendarEventDescriptor", "Strike", "N"),
    ("DisciplineDescriptor", "In School Suspension", "ISS"),
    ("DisciplineDescriptor", "Out of School Suspension", "OSS"),
    ("AcademicSubjectDescriptor", "English Language Arts", "ELA"),
    ("AcademicSubjectDescriptor", "English", "ELA"),
    ("AcademicSubjectDescriptor", "Reading", "ELA"),
    ("AcademicSubjectDescriptor", "Writing", "ELA"),
    ("AcademicSubjectDescriptor", "Critical Reading", "ELA"),
    ("AcademicSubjectDescriptor", "Mathematics", "MATH"),
    ("AcademicSubjectDescriptor", "Science", "SCI"),
    (
        "AcademicSubjectDescriptor",
        "Life and Physical Sciences",
        "SCI",
    ),
    ("AcademicSubjectDescriptor", "Social Studies", "SOC"),
    (
        "AcademicSubjectDescriptor",
        "Social Sciences and History",
        "SOC",
    ),
    ("AcademicSubjectDescriptor", "Economics", "SOC"),
    ("GradingPeriodDescriptor", "First Six Weeks", "W1"),
    ("GradingPeriodDescriptor", "Second Six Weeks", "W2"),
    ("GradingPeriodDescriptor", "Third Six Weeks", "W3"),
    ("GradingPeriodDescriptor", "Fourth Six Weeks", "W4"),
    ("GradingPeriodDescriptor", "Fifth Six Weeks", "W5"),
    ("GradingPeriodDescriptor", "Sixth Six Weeks", "W6"),
    ("GradingPeriodDescriptor", "First Nine Weeks", "Q1"),
    ("GradingPeriodDescriptor", "Second Nine Weeks", "Q2"),
    ("GradingPeriodDescriptor", "Third Nine Weeks", "Q3"),
    ("GradingPeriodDescriptor", "Fourth Nine Weeks", "Q4"),
    ("GradingPeriodDescriptor", "First Quarter", "Q1"),
    ("GradingPeriodDescriptor", "Second Quarter", "Q2"),
    ("GradingPeriodDescriptor", "Third Quarter", "Q3"),
    ("GradingPeriodDescriptor", "Fourth Quarter", "Q4"),
    ("GradingPeriodDescriptor", "First Trimester", "T1"),
    ("GradingPeriodDescriptor", "Second Trimester", "T2"),
    ("GradingPeriodDescriptor", "Third Trimester", "T3"),
    ("GradingPeriodDescriptor", "First Semester", "S1"),
    ("GradingPeriodDescriptor", "Second Semester", "S2"),
    ("GradingPeriodDescriptor", "End of Year", "Y"),
    ("TermDescriptor", "Fall Semester", "S1"),
    ("TermDescriptor", "Spring Semester", "S2"),
    ("TermDescriptor", "Year Round", "Y"),
    ("TermDescriptor", "First Trimester", "T1"),
    ("TermDescriptor", "Second Trimester", "T2"),
    ("TermDescriptor", "Third Trimester", "T3"),
    ("TermDescriptor", "First Quarter", "Q1"),
    ("TermDescriptor", "Second Quarter", "Q2"),
    ("TermDescriptor", "Third Quarter", "Q3"),
    ("TermDescriptor", "Fourth Quarter", "Q4"),
    ("GradeTypeDescriptor", "Grading Period", "grading_period"),
    ("GradeTypeDescriptor", "Semester", "semester"),
    ("GradeTypeDescriptor", "Final", "final"),
    ("SexDescriptor", "Female", "F"),
    ("SexDescriptor", "Male", "M"),
    ("LimitedEnglishProficiencyDescriptor", "Limited", "Y"),
    ("LimitedEnglishProficiencyDescriptor", "NotLimited", "N"),
    (
        "LimitedEnglishProficiencyDescriptor",
        "Limited Monitored 1",
        "N",
    ),
    (
        "LimitedEnglishProficiencyDescriptor",
        "Limited Monitored 2",
        "N",
    ),
    (
        "StudentCharacteristicDescriptor",
        "Economic Disadvantaged",
        "econ_disadvantaged",
    ),
    ("MethodCreditEarnedDescriptor", "Credit recovery", "Y"),
];

/// The contract values a descriptor may map to, for the config's check; a descriptor not
/// listed maps to any text (a subject, a behavior, an intervention type).
const ALLOWED: &[(&str, &[&str])] = &[
    (
        "GradeLevelDescriptor",
        &[
            "PK", "TK", "K", "KG", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
    ),
    (
        "AttendanceEventCategoryDescriptor",
        &crate::contract::ATTENDANCE_CODES,
    ),
    ("CalendarEventDescriptor", &["Y", "N"]),
    ("DisciplineDescriptor", &["ISS", "OSS"]),
    (
        "GradeTypeDescriptor",
        &["grading_period", "semester", "final"],
    ),
    ("LimitedEnglishProficiencyDescriptor", &["Y", "N"]),
    ("MethodCreditEarnedDescriptor", &["Y", "N"]),
    ("StudentCharacteristicDescriptor", &["econ_disadvantaged"]),
];

/// The code value of a descriptor reference: the part after `#` of
/// `uri://ed-fi.org/GradeLevelDescriptor#Ninth grade`, or the whole value without a `#`.
pub fn code_value(value: &str) -> &str {
    value
        .rsplit_once('#')
        .map_or(value, |(_, code)| code)
        .trim()
}

/// The descriptor tables of one import, and the code values they did not know.
#[derive(Debug, Default)]
pub struct Descriptors {
    /// (descriptor, lower-case code value) → contract value.
    table: FxHashMap<(String, String), String>,
    /// (descriptor, code value as written) → how many times it was looked up and not found.
    pub unmapped: BTreeMap<(String, String), u64>,
}

impl Descriptors {
    /// The built-in table with the config's entries over it.
    pub fn new(config: &BTreeMap<String, BTreeMap<String, String>>) -> Descriptors {
        let mut table = FxHashMap::default();
        for (descriptor, code, value) in BUILT_IN {
            table.insert(
                (descriptor.to_string(), code.to_lowercase()),
                value.to_string(),
            );
        }
        for (descriptor, codes) in config {
            for (code, value) in codes {
                table.insert(
                    (descriptor.clone(), code_value(code).to_lowercase()),
                    value.clone(),
                );
            }
        }
        Descriptors {
            table,
            unmapped: BTreeMap::new(),
        }
    }

    /// Checks the config's entries: a descriptor with a fixed set of contract values maps only
    /// to one of them. The message names the key, as the config's other checks do.
    pub fn check_config(config: &BTreeMap<String, BTreeMap<String, String>>) -> Result<(), String> {
        for (descriptor, codes) in config {
            let Some((_, allowed)) = ALLOWED.iter().find(|(d, _)| d == descriptor) else {
                continue;
            };
            for (code, value) in codes {
                if !allowed.contains(&value.as_str()) {
                    return Err(format!(
                        "edfi.descriptors.{descriptor}.{code:?} = {value:?}: expected one of {}",
                        allowed.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    /// The contract value of a descriptor reference, or `None`, counted as unmapped.
    pub fn map(&mut self, descriptor: &str, value: &str) -> Option<String> {
        let found = self.lookup(descriptor, value);
        if found.is_none() {
            *self
                .unmapped
                .entry((descriptor.to_string(), code_value(value).to_string()))
                .or_default() += 1;
        }
        found
    }

    /// The contract value, or else the code value itself (for descriptors whose code values
    /// are text the contract keeps as written: subjects, behaviors, races, exit types).
    pub fn map_or_code(&self, descriptor: &str, value: &str) -> String {
        self.lookup(descriptor, value)
            .unwrap_or_else(|| code_value(value).to_string())
    }

    /// The contract value without counting a miss.
    pub fn lookup(&self, descriptor: &str, value: &str) -> Option<String> {
        self.table
            .get(&(descriptor.to_string(), code_value(value).to_lowercase()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_values_map_any_namespace_and_case_and_config_overrides() {
        let mut config = BTreeMap::new();
        config.insert(
            "AttendanceEventCategoryDescriptor".to_string(),
            BTreeMap::from([("Partial".to_string(), "A".to_string())]),
        );
        config.insert(
            "GradeLevelDescriptor".to_string(),
            BTreeMap::from([("Ninth grade".to_string(), "09".to_string())]),
        );
        let mut d = Descriptors::new(&config);
        let grade = "uri://ed-fi.org/GradeLevelDescriptor#Tenth grade";
        assert_eq!(d.map("GradeLevelDescriptor", grade).as_deref(), Some("10"));
        assert_eq!(
            d.map(
                "GradeLevelDescriptor",
                "uri://district.org/GradeLevelDescriptor#NINTH GRADE"
            )
            .as_deref(),
            Some("09")
        );
        assert_eq!(
            d.map(
                "AttendanceEventCategoryDescriptor",
                "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Partial"
            )
            .as_deref(),
            Some("A")
        );
        assert_eq!(
            d.map(
                "GradeLevelDescriptor",
                "uri://ed-fi.org/GradeLevelDescriptor#Ungraded"
            ),
            None
        );
        assert_eq!(d.map("GradeLevelDescriptor", "#Ungraded"), None);
        assert_eq!(
            d.unmapped
                .get(&("GradeLevelDescriptor".to_string(), "Ungraded".to_string())),
            Some(&2)
        );
        assert_eq!(
            d.map_or_code(
                "AcademicSubjectDescriptor",
                "uri://ed-fi.org/AcademicSubjectDescriptor#Fine and Performing Arts"
            ),
            "Fine and Performing Arts"
        );
        assert_eq!(
            d.map_or_code(
                "AcademicSubjectDescriptor",
                "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics"
            ),
            "MATH"
        );
    }

    #[test]
    fn the_config_may_map_a_fixed_descriptor_only_to_contract_values() {
        let config = BTreeMap::from([(
            "AttendanceEventCategoryDescriptor".to_string(),
            BTreeMap::from([("Partial".to_string(), "half".to_string())]),
        )]);
        let error = Descriptors::check_config(&config).err().unwrap_or_default();
        assert!(
            error.contains("edfi.descriptors.AttendanceEventCategoryDescriptor.\"Partial\""),
            "{error}"
        );
        assert!(error.contains("P, T, E, A, S"), "{error}");
        let free = BTreeMap::from([(
            "BehaviorDescriptor".to_string(),
            BTreeMap::from([("State Offense".to_string(), "Fighting".to_string())]),
        )]);
        assert!(Descriptors::check_config(&free).is_ok());
    }
}
