//! Criterion benchmarks of the pipeline's stages on synthetic districts made by `ews generate`:
//! reading + validating a snapshot (attendance's one-pass reader included), deriving the
//! features, training (cross-validated penalty, holdout, calibration) and scoring.
//!
//!     cargo bench --bench pipeline                        # 1k, 10k and 100k students
//!     EWS_BENCH_SIZES=1000,10000 cargo bench --bench pipeline
//!
//! The districts are generated once per size into a temporary folder (100k students take
//! about 15 s and 1 GB of disk). End-to-end runs of the binary against the pandas baseline
//! are in benches/compare.sh; the measured figures are in docs/performance.md.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ews::config::Config;
use ews::features::{self, FeatureRun};
use ews::ingest::checks::{self, Validated};
use ews::ingest::input::Snapshot;
use ews::model::score;
use ews::model::{self, ModelFile};
use ews::synth::generate::{generate, GenerateOptions, Shape};

fn sizes() -> Vec<usize> {
    std::env::var("EWS_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000])
}

fn load(dir: &Path, config: &Config) -> Validated {
    let snapshot = Snapshot::open(dir).expect("snapshot folder");
    checks::load(&snapshot, config, None, true).expect("valid snapshot")
}

fn trained(data: &Validated, run: &FeatureRun, config: &Config) -> ModelFile {
    let outcomes = data.outcomes.as_ref().expect("train snapshot has outcomes");
    let labels = model::labels(run, outcomes, config).expect("labels");
    // One checkpoint (the snapshot's as-of date): the bench times the fit, not the re-reads.
    let rows = [model::CheckpointRows {
        checkpoint: model::checkpoints::month_day(run.as_of),
        run,
        labels: &labels,
    }];
    let stacked = model::stack(&rows).expect("stacked rows");
    model::train(stacked, run, &labels, Vec::new(), "bench", config)
        .expect("training")
        .model
}

fn pipeline(c: &mut Criterion) {
    let config = Config::default();
    for students in sizes() {
        let dir = tempfile::tempdir().expect("temporary folder");
        generate(&GenerateOptions {
            students,
            seed: 1,
            out: dir.path().to_path_buf(),
            shape: Shape::Canonical,
            marking_periods: Default::default(),
            history_years: 0,
            format: Default::default(),
            snapshots: Default::default(),
        })
        .expect("generated district");
        let train_dir = dir.path().join("train");

        let mut group = c.benchmark_group("pipeline");
        // Larger districts take seconds per iteration: fewer samples, longer budget.
        group.sample_size(if students >= 100_000 { 10 } else { 20 });
        group.measurement_time(Duration::from_secs(if students >= 100_000 {
            60
        } else {
            10
        }));

        group.bench_with_input(
            BenchmarkId::new("read_validate", students),
            &train_dir,
            |b, dir| b.iter(|| load(dir, &config)),
        );
        let data = load(&train_dir, &config);
        group.bench_with_input(BenchmarkId::new("features", students), &data, |b, data| {
            b.iter(|| features::compute(data, &config).expect("features"))
        });
        let run = features::compute(&data, &config).expect("features");
        group.bench_with_input(BenchmarkId::new("train", students), &run, |b, run| {
            b.iter(|| trained(&data, run, &config))
        });
        let model = trained(&data, &run, &config);
        group.bench_with_input(BenchmarkId::new("score", students), &run, |b, run| {
            b.iter(|| score::score(&run.table, &model, &config).expect("scores"))
        });
        group.finish();
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
