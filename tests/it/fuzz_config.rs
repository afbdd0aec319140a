//! Property tests of the two files a user hands to ews besides the snapshot: the config and
//! the model file. Arbitrary bytes (or mutations of the real files) give an error, never a
//! panic. 64 cases from a fixed seed in CI; a long search is in docs/fuzzing.md.

use crate::common;

use common::root;
use ews::config::Config;
use ews::model::ModelFile;
use proptest::prelude::*;

fn mutations(original: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let noise = prop::collection::vec(any::<u8>(), 0..600);
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..16);
    let mutated = edits.prop_map(move |edits| {
        let mut bytes = original.clone();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, byte),
            }
        }
        bytes
    });
    prop_oneof![noise, mutated]
}

fn config_bytes() -> impl Strategy<Value = Vec<u8>> {
    let shipped = std::fs::read(root().join("config/ews.toml")).unwrap();
    let example = std::fs::read(root().join("config/examples/semicolon-0-20.toml")).unwrap();
    prop_oneof![mutations(shipped), mutations(example)]
}

proptest! {
    #![proptest_config(common::proptest_config())]

    #[test]
    fn any_config_file_loads_or_is_refused(bytes in config_bytes()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ews.toml");
        std::fs::write(&path, &bytes).unwrap();
        let result = std::panic::catch_unwind(|| Config::load(&path).map(|_| ()));
        prop_assert!(result.is_ok(), "panic on {:?}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn any_model_file_loads_or_is_refused(
        bytes in mutations(std::fs::read(root().join("config/model.json")).unwrap())
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        std::fs::write(&path, &bytes).unwrap();
        let result = std::panic::catch_unwind(|| ModelFile::load(&path).map(|_| ()));
        prop_assert!(result.is_ok(), "panic on {:?}", String::from_utf8_lossy(&bytes));
    }
}
