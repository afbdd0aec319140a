//! `ews generate`: a synthetic district, in the export shape of the config's mapping, or in
//! the shapes real SIS exports have (`--shape sis`, `sis-daily`; canonical layout only).

use crate::cli::GenerateArgs;
use crate::config::Config;
use crate::io::error::{EwsError, GenerateError, Result};
use crate::io::folders::{self};
use crate::synth::generate;

use crate::cli::run::{say, RunStatus};

/// `ews generate`: a synthetic district, written in the export shape of `config.input`. A
/// mapped export is generated canonically into a staging folder beside `--out` and then
/// exported through the mapping's inverse ([`crate::synth::export`]).
pub fn run(args: &GenerateArgs, config: &Config) -> Result<RunStatus> {
    let canonical = config.input == crate::config::mapping::Mapping::default() && !args.bom;
    if args.shape.is_sis() && !canonical {
        return Err(GenerateError::CanonicalLayoutOnly(args.shape.name()).into());
    }
    if args.format != generate::FileFormat::Csv && !canonical {
        return Err(GenerateError::CsvOnly(args.format.name()).into());
    }
    let staging = if canonical {
        None
    } else {
        let parent = match args.out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| EwsError::io(&parent, e))?;
        let dir = tempfile::Builder::new()
            .prefix(".ews-generate-")
            .tempdir_in(&parent)
            .map_err(|e| EwsError::io(&parent, e))?;
        Some(dir)
    };
    let summary = generate::generate(&generate::GenerateOptions {
        students: args.students,
        seed: args.seed,
        shape: args.shape,
        marking_periods: args.marking_periods,
        history_years: args.history_years,
        format: args.format,
        snapshots: args.snapshots,
        out: staging
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_else(|| args.out.clone()),
    })?;
    for snapshot in summary.written() {
        let (dir, rows) = match &staging {
            None => (snapshot.dir.clone(), snapshot.rows.clone()),
            Some(_) => {
                let name = snapshot.dir.file_name().unwrap_or_default();
                let dir = args.out.join(name);
                let exported = crate::synth::export::export_snapshot(
                    &snapshot.dir,
                    &config.input,
                    &dir,
                    args.bom,
                )?;
                if exported.lossy_values > 0 {
                    log::warn!(
                        "{}: {} values have characters the export's encoding cannot hold; written with `?`",
                        dir.display(),
                        exported.lossy_values
                    );
                }
                (dir, exported.rows)
            }
        };
        say!(
            "wrote {} ({} students, as of {})",
            dir.display(),
            snapshot.students,
            snapshot.as_of
        );
        for (file, rows) in &rows {
            say!("  {file:<24} {rows:>10} rows");
        }
    }
    if let Some(staging) = &staging {
        let manifest = "generator.json";
        let to = args.out.join(manifest);
        std::fs::copy(staging.path().join(manifest), &to).map_err(|e| EwsError::io(&to, e))?;
    }
    // Synthetic, but shaped like student data: the student-level mode, as a real export should
    // have; the generator's own record is an aggregate.
    let modes = config.privacy.file_modes();
    for snapshot in summary.written() {
        let name = snapshot.dir.file_name().unwrap_or_default();
        let dir = args.out.join(name);
        for file in folders::files_under(&dir, &dir)? {
            folders::set_file_mode(&dir.join(file), modes.student_level)?;
        }
        folders::set_file_mode(&dir, folders::FOLDER_MODE)?;
    }
    let manifest = args.out.join("generator.json");
    if manifest.exists() {
        folders::set_file_mode(&manifest, modes.aggregate)?;
    }
    Ok(RunStatus::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::generate::Shape;

    #[test]
    fn sis_shapes_refuse_a_mapping_or_a_bom_with_exit_2() -> std::result::Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut mapped = Config::default();
        mapped.input.delimiter = Some(";".into());
        let plain = Config::default();
        for (config, bom) in [(&mapped, false), (&plain, true)] {
            for shape in [Shape::Sis, Shape::SisDaily] {
                let args = GenerateArgs {
                    students: 50,
                    seed: 1,
                    out: dir.path().join("out"),
                    bom,
                    shape,
                    marking_periods: generate::MarkingPeriods::SixWeeks,
                    history_years: 0,
                    format: Default::default(),
                    snapshots: Default::default(),
                };
                let error = run(&args, config).err().ok_or("not refused")?;
                assert_eq!(error.exit_code(), crate::io::error::EXIT_BAD_INPUT);
                let message = error.to_string();
                assert!(message.contains("canonical layout only"), "{message}");
                assert!(message.contains(shape.name()), "{message}");
                assert!(!args.out.exists(), "nothing is written");
            }
        }
        Ok(())
    }
}
