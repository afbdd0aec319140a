//! The house stays one: every module of src/ belongs to a layer, imports only from the layers
//! it may (each below it), and no two files import each other through any chain.
//!
//! The layers, lowest first (docs/architecture.md): `contract` (the input contract), `io` (run
//! folders, locks, modes, safe writing, hashing, numbers, dates), `config` (the district's
//! configuration and mapping), `ingest` (snapshots, the reader, checks, the attendance grid,
//! the gate), `features`, `model`, `outputs`, `synth` (the generator: contract, io and config
//! only) and `cli`. A module belongs to the layer of its folder (`src/<layer>/`, with the
//! layer's own `mod.rs`), or is `src/contract.rs`; main.rs is the command line's.
//!
//! No upward import and no cycle is allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::root;

/// Each layer and the layers it may import from.
const LAYERS: [(&str, &[&str]); 9] = [
    ("contract", &[]),
    ("io", &["contract"]),
    ("config", &["contract", "io"]),
    ("ingest", &["contract", "io", "config"]),
    ("features", &["contract", "io", "config", "ingest"]),
    ("model", &["contract", "io", "config", "ingest", "features"]),
    (
        "outputs",
        &["contract", "io", "config", "ingest", "features", "model"],
    ),
    ("synth", &["contract", "io", "config"]),
    (
        "cli",
        &[
            "contract", "io", "config", "ingest", "features", "model", "outputs", "synth",
        ],
    ),
];

/// The layer of each module outside the layer folders.
const FLAT: [(&str, &str); 1] = [("main", "cli")];

/// The modules of src/ (by path without `src/` and `.rs`, `mod.rs` as its folder) and the
/// modules each imports through `crate::`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut sources = BTreeMap::new();
    collect(&root().join("src"), "", &mut sources);
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .map(|(module, text)| {
            let used = crate_paths(text)
                .into_iter()
                .filter_map(|path| longest_module(&path, &modules))
                .filter(|used| used != module)
                .collect();
            (module.clone(), used)
        })
        .collect()
}

fn collect(dir: &Path, prefix: &str, sources: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            collect(&path, &format!("{prefix}{name}::"), sources);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            let module = match name.as_str() {
                "mod" => prefix.trim_end_matches("::").to_string(),
                _ => format!("{prefix}{name}"),
            };
            sources.insert(module, code_of(&std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The text of a source file without comments and without its unit tests (which may use
/// anything to build fixtures).
fn code_of(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path written after `crate::` (and `ews::` in the binary), with `{a, b::c}` groups
/// expanded: `["a", "b::c"]`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for start in ["crate::", "ews::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let boundary = rest[..at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            rest = &rest[at + start.len()..];
            if boundary {
                paths.extend(expand(rest));
            }
        }
    }
    paths
}

/// The paths at the start of `text`: one path, or a `{…}` group of them.
fn expand(text: &str) -> Vec<String> {
    let path_len = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let path = text[..path_len].trim_end_matches(':').to_string();
    let after = &text[path_len..];
    if !after.starts_with('{') {
        return vec![path];
    }
    // A group: split at the commas of its own level.
    let (mut depth, mut end) = (0, after.len());
    for (i, c) in after.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    let inner = &after[1..end];
    let mut items = Vec::new();
    let (mut depth, mut from) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[from..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty() && *item != "self")
        .flat_map(expand)
        .map(|inner| match path.is_empty() {
            true => inner,
            false => format!("{path}::{inner}"),
        })
        .collect()
}

/// The module a path names or is inside of.
fn longest_module(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| modules.contains(candidate))
}

fn layer_of(module: &str) -> &'static str {
    let top = module.split("::").next().unwrap_or(module);
    if let Some((layer, _)) = LAYERS.iter().find(|(layer, _)| *layer == top) {
        return layer;
    }
    FLAT.iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("src/{module}: in no layer (a folder of LAYERS, or FLAT)"))
}

/// The modules that are part of a cycle (Tarjan's strongly connected components of more than
/// one module).
fn in_cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    struct Search<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: BTreeSet<String>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.extend(component.into_iter().map(String::from));
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: BTreeSet::new(),
    };
    for v in graph.keys() {
        if !search.index.contains_key(v.as_str()) {
            search.visit(v);
        }
    }
    search.found
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let graph = imports();
    let allowed = |from: &str, to: &str| {
        let (from_layer, to_layer) = (layer_of(from), layer_of(to));
        from_layer == to_layer
            || LAYERS
                .iter()
                .any(|(layer, below)| *layer == from_layer && below.contains(&to_layer))
    };
    let upward: Vec<String> = graph
        .iter()
        .flat_map(|(from, used)| used.iter().map(move |to| (from, to)))
        .filter(|(from, to)| !allowed(from, to))
        .map(|(a, b)| format!("{a} ({}) → {b} ({})", layer_of(a), layer_of(b)))
        .collect();
    assert!(upward.is_empty(), "imports from a layer above: {upward:?}");
}

#[test]
fn no_files_import_each_other_through_any_chain() {
    let cycles = in_cycles(&imports());
    assert!(cycles.is_empty(), "files in an import cycle: {cycles:?}");
}

#[test]
fn the_scanner_sees_grouped_nested_and_inline_imports() {
    let code = code_of(
        "use crate::{config::Config, output::{self, RunFolder}};\n\
         // crate::commented\n\
         fn f() { crate::outputs::feed::write(); let x = ews::model::score::Tier::High; }\n\
         #[cfg(test)]\nmod tests { use crate::synth::generate; }\n",
    );
    let modules: BTreeSet<String> = [
        "config",
        "output",
        "outputs::feed",
        "model",
        "model::score",
        "synth::generate",
        "commented",
    ]
    .iter()
    .map(|m| m.to_string())
    .collect();
    let found: BTreeSet<String> = crate_paths(&code)
        .into_iter()
        .filter_map(|p| longest_module(&p, &modules))
        .collect();
    let expected: BTreeSet<String> = ["config", "output", "outputs::feed", "model::score"]
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert_eq!(found, expected);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, used)| (m.to_string(), used.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        in_cycles(&graph),
        ["a", "b", "c"].iter().map(|m| m.to_string()).collect()
    );
}
