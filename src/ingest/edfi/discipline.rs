//! Discipline and interventions, whose records point to each other within one interchange
//! file and so are joined at its end (their volume is small: incidents, not days).
//!
//! behavior.csv: one row per student in an incident (StudentDisciplineIncidentBehaviorAssociation),
//! dated by the incident, typed by the student's behavior; the discipline actions that name
//! that association give its suspension (the most severe of ISS and OSS, the days summed:
//! ActualDisciplineActionLength, else DisciplineActionLength). An action that names no
//! association in the file is a row of its own, dated by its DisciplineDate.
//!
//! interventions.csv: one row per StudentInterventionAssociation, with its Intervention's
//! class (the InterventionClassDescriptor's code value, or what the config maps it to) and
//! dates. Ed-Fi records no status: an intervention with an EndDate is written `completed`,
//! one without `active`.

use std::path::Path;

use rustc_hash::FxHashMap;

use super::xml::Record;
use super::{date_cell, each_record, Import};
use crate::io::error::Result;

const STUDENT_ID: &str = "StudentReference/StudentIdentity/StudentUniqueId";

/// A record kept until the end of its file, with its line for a reject.
struct Kept {
    line: u64,
    element: String,
    student: Option<String>,
}

/// A discipline incident: its date, its behavior, and the key every reference to it ends at
/// (its identity when it has one, so that a reference by id and one by identity meet).
#[derive(Clone)]
struct Incident {
    date: String,
    behavior: Option<String>,
    key: String,
}

struct Association {
    kept: Kept,
    /// Key of the incident ([`incident_key`] or `#id`).
    incident: Option<String>,
    behavior: String,
}

struct Action {
    kept: Kept,
    date: Option<String>,
    disciplines: Vec<String>,
    days: Option<f64>,
    /// Keys of the associations it names ([`association_key`]).
    associations: Vec<String>,
}

struct StudentIntervention {
    kept: Kept,
    intervention: Option<String>,
}

#[derive(Clone)]
struct Intervention {
    class: String,
    begin: Option<String>,
    end: Option<String>,
}

fn incident_key(identifier: &str, school: &str) -> String {
    format!("{identifier}\u{1f}{school}")
}

fn association_key(student: &str, incident: &str) -> String {
    format!("{student}\u{1f}{incident}")
}

pub fn read(import: &mut Import, path: &Path) -> Result<u64> {
    let mut incidents: FxHashMap<String, Incident> = FxHashMap::default();
    let mut associations = Vec::new();
    let mut actions = Vec::new();
    let mut interventions: FxHashMap<String, Intervention> = FxHashMap::default();
    let mut students = Vec::new();
    let records = each_record(import, path, |_, record| {
        let kept = || Kept {
            line: record.line,
            element: record.name.clone(),
            student: record.get(STUDENT_ID).map(String::from),
        };
        match record.name.as_str() {
            "DisciplineIncident" => {
                let identity = match (
                    record.get("IncidentIdentifier"),
                    record.get("SchoolReference/SchoolIdentity/SchoolId"),
                ) {
                    (Some(id), Some(school)) => Some(incident_key(id, school)),
                    _ => None,
                };
                let by_id = record.get("@id").map(|id| format!("#{id}"));
                let Some(key) = identity.clone().or(by_id.clone()) else {
                    return Ok(true);
                };
                let incident = Incident {
                    date: record
                        .get("IncidentDate")
                        .map(String::from)
                        .unwrap_or_default(),
                    behavior: record.get("Behavior/Behavior").map(String::from),
                    key,
                };
                if let Some(by_id) = by_id {
                    incidents.insert(by_id, incident.clone());
                }
                if let Some(identity) = identity {
                    incidents.insert(identity, incident);
                }
            }
            "StudentDisciplineIncidentBehaviorAssociation" => {
                let incident = incident_reference(record, "DisciplineIncidentReference");
                associations.push(Association {
                    kept: kept(),
                    incident,
                    behavior: record.get("Behavior").unwrap_or_default().to_string(),
                });
            }
            "DisciplineAction" => {
                let prefix = "StudentDisciplineIncidentBehaviorAssociationReference/StudentDisciplineIncidentBehaviorAssociationIdentity";
                let mut linked = Vec::new();
                let named = record.get(&format!(
                    "{prefix}/StudentReference/StudentIdentity/StudentUniqueId"
                ));
                let identifier = record.get(&format!("{prefix}/DisciplineIncidentReference/DisciplineIncidentIdentity/IncidentIdentifier"));
                let school = record.get(&format!(
                    "{prefix}/DisciplineIncidentReference/DisciplineIncidentIdentity/SchoolReference/SchoolIdentity/SchoolId"
                ));
                if let (Some(student), Some(identifier), Some(school)) = (named, identifier, school)
                {
                    linked.push(association_key(student, &incident_key(identifier, school)));
                }
                let days = record
                    .get("ActualDisciplineActionLength")
                    .or(record.get("DisciplineActionLength"))
                    .and_then(|d| d.parse::<f64>().ok());
                actions.push(Action {
                    kept: kept(),
                    date: record.get("DisciplineDate").map(String::from),
                    disciplines: record.all("Discipline").map(String::from).collect(),
                    days,
                    associations: linked,
                });
            }
            "Intervention" => {
                let intervention = Intervention {
                    class: record
                        .get("InterventionClass")
                        .unwrap_or_default()
                        .to_string(),
                    begin: record.get("BeginDate").map(String::from),
                    end: record.get("EndDate").map(String::from),
                };
                let organization = record
                    .get("EducationOrganizationReference/EducationOrganizationIdentity/EducationOrganizationId")
                    .unwrap_or_default();
                if let Some(id) = record.get("@id") {
                    interventions.insert(format!("#{id}"), intervention.clone());
                }
                if let Some(code) = record.get("InterventionIdentificationCode") {
                    interventions.insert(format!("{code}\u{1f}{organization}"), intervention);
                }
            }
            "StudentInterventionAssociation" => {
                let identity = "InterventionReference/InterventionIdentity";
                let code = record.get(&format!("{identity}/InterventionIdentificationCode"));
                let organization = record
                    .get(&format!(
                        "{identity}/EducationOrganizationReference/EducationOrganizationIdentity/EducationOrganizationId"
                    ))
                    .unwrap_or_default();
                let intervention = match code {
                    Some(code) => Some(format!("{code}\u{1f}{organization}")),
                    None => record
                        .get("InterventionReference/@ref")
                        .map(|r| format!("#{r}")),
                };
                students.push(StudentIntervention {
                    kept: kept(),
                    intervention,
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !associations.is_empty() || !actions.is_empty() {
        write_behavior(import, path, &incidents, associations, actions)?;
    }
    if !students.is_empty() {
        write_interventions(import, path, &interventions, students)?;
    }
    Ok(records)
}

/// The incident a reference points to: by identity, or by id.
fn incident_reference(record: &Record, reference: &str) -> Option<String> {
    let identity = format!("{reference}/DisciplineIncidentIdentity");
    match (
        record.get(&format!("{identity}/IncidentIdentifier")),
        record.get(&format!(
            "{identity}/SchoolReference/SchoolIdentity/SchoolId"
        )),
    ) {
        (Some(id), Some(school)) => Some(incident_key(id, school)),
        _ => record
            .get(&format!("{reference}/@ref"))
            .map(|r| format!("#{r}")),
    }
}

/// The suspension of a set of discipline descriptors: OSS over ISS; `None` when neither.
fn suspension(import: &mut Import, disciplines: &[String]) -> Option<&'static str> {
    let mut found = None;
    for discipline in disciplines {
        match import
            .descriptors
            .map("DisciplineDescriptor", discipline)
            .as_deref()
        {
            Some("OSS") => found = Some("OSS"),
            Some("ISS") if found.is_none() => found = Some("ISS"),
            _ => {}
        }
    }
    found
}

fn write_behavior(
    import: &mut Import,
    path: &Path,
    incidents: &FxHashMap<String, Incident>,
    associations: Vec<Association>,
    actions: Vec<Action>,
) -> Result<()> {
    let output = crate::contract::BEHAVIOR.name;
    import.output(&crate::contract::BEHAVIOR)?;
    // The association (student, incident) each action names, by identity key.
    let mut by_key: FxHashMap<String, usize> = FxHashMap::default();
    for (i, a) in associations.iter().enumerate() {
        let (Some(student), Some(incident)) = (&a.kept.student, &a.incident) else {
            continue;
        };
        // An association may name its incident by id and an action by identity: both lead to
        // the incident's own key.
        let incident = incidents
            .get(incident)
            .map_or(incident.as_str(), |i| i.key.as_str());
        by_key.insert(association_key(student, incident), i);
    }
    let mut suspensions: Vec<(Option<&'static str>, f64)> = vec![(None, 0.0); associations.len()];
    let mut own_rows = Vec::new();
    for action in actions {
        let target = action
            .associations
            .iter()
            .find_map(|key| by_key.get(key).copied());
        let found = suspension(import, &action.disciplines);
        match target {
            Some(i) => {
                let (kind, days) = &mut suspensions[i];
                if found == Some("OSS") || kind.is_none() {
                    *kind = found.or(*kind);
                }
                *days += action.days.unwrap_or(0.0);
            }
            None => own_rows.push((action, found)),
        }
    }
    for (association, (kind, days)) in associations.iter().zip(suspensions) {
        let student = association.kept.student.as_deref();
        let record = kept_record(&association.kept);
        if !import.check_references(path, &record, output, student, None)? {
            continue;
        }
        let student = student.unwrap_or_default();
        let incident = association
            .incident
            .as_ref()
            .and_then(|key| incidents.get(key));
        let Some(Incident {
            date,
            behavior: incident_behavior,
            ..
        }) = incident
        else {
            import.reject(
                path,
                &record,
                output,
                "incident not in the StudentDiscipline interchange",
                student,
                "",
            )?;
            continue;
        };
        let behavior = if association.behavior.is_empty() {
            incident_behavior.clone().unwrap_or_default()
        } else {
            association.behavior.clone()
        };
        let incident_type = import
            .descriptors
            .map_or_code("BehaviorDescriptor", &behavior);
        let days = if kind.is_some() {
            crate::io::text::short_number(days)
        } else {
            String::new()
        };
        import.output(&crate::contract::BEHAVIOR)?.record(&[
            ("student_id", student),
            ("date", &date_cell(Some(date))),
            ("incident_type", &incident_type),
            ("suspension_type", kind.unwrap_or_default()),
            ("suspension_days", &days),
        ])?;
    }
    for (action, kind) in own_rows {
        let student = action.kept.student.as_deref();
        let record = kept_record(&action.kept);
        if !import.check_references(path, &record, output, student, None)? {
            continue;
        }
        let student = student.unwrap_or_default();
        // No incident: the action's own discipline names what happened.
        let incident_type = action
            .disciplines
            .first()
            .map(|d| super::descriptors::code_value(d).to_string())
            .unwrap_or_default();
        let days = match (kind, action.days) {
            (Some(_), Some(d)) => crate::io::text::short_number(d),
            _ => String::new(),
        };
        import.output(&crate::contract::BEHAVIOR)?.record(&[
            ("student_id", student),
            ("date", &date_cell(action.date.as_deref())),
            ("incident_type", &incident_type),
            ("suspension_type", kind.unwrap_or_default()),
            ("suspension_days", &days),
        ])?;
    }
    Ok(())
}

fn write_interventions(
    import: &mut Import,
    path: &Path,
    interventions: &FxHashMap<String, Intervention>,
    students: Vec<StudentIntervention>,
) -> Result<()> {
    let output = crate::contract::INTERVENTIONS.name;
    import.output(&crate::contract::INTERVENTIONS)?;
    for association in students {
        let student = association.kept.student.as_deref();
        let record = kept_record(&association.kept);
        if !import.check_references(path, &record, output, student, None)? {
            continue;
        }
        let student = student.unwrap_or_default();
        let Some(intervention) = association
            .intervention
            .as_ref()
            .and_then(|k| interventions.get(k))
        else {
            import.reject(
                path,
                &record,
                output,
                "intervention not in the StudentIntervention interchange",
                student,
                "",
            )?;
            continue;
        };
        let kind = import
            .descriptors
            .lookup("InterventionClassDescriptor", &intervention.class)
            .unwrap_or_else(|| snake_case(super::descriptors::code_value(&intervention.class)));
        let status = if intervention.end.is_some() {
            "completed"
        } else {
            "active"
        };
        import.output(&crate::contract::INTERVENTIONS)?.record(&[
            ("student_id", student),
            ("intervention_type", &kind),
            ("start_date", &date_cell(intervention.begin.as_deref())),
            ("end_date", &date_cell(intervention.end.as_deref())),
            ("status", status),
        ])?;
    }
    Ok(())
}

/// `Parent Involvement` → `parent_involvement`, the contract's spelling of a type.
fn snake_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(&word.to_lowercase());
    }
    out
}

/// A stand-in record for a kept one, for the reject's line and element.
fn kept_record(kept: &Kept) -> Record {
    let mut record = Record::default();
    record.name.push_str(&kept.element);
    record.line = kept.line;
    record
}
