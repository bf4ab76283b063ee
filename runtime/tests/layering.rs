//! The runtime reads bottom-up: no file imports a file above it, except
//! inside the one named knot that must be read together (ARCHITECTURE.md,
//! "Layers"). This test keeps it so. It reads every file under `src/`,
//! collects the modules each one refers to (`use crate::…`, `use super::…`,
//! and `crate::…` paths in code; test modules and loom models excluded),
//! and fails if the import graph has a cycle other than the knot, printing
//! the graph.
//!
//! It parses paths, not Rust: enough for this crate's style (no macros that
//! expand to `use`, no `#[path]`). A file it cannot read fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The one cycle allowed: a waker must reach its own runtime, so the task,
/// its waker, the thread's current runtime and the executor (with its
/// cross-thread half, the mailbox) refer to each other.
const KNOT: [&str; 5] = ["context", "executor", "mailbox", "task", "waker"];

#[test]
#[cfg_attr(miri, ignore = "reads the source tree, which Miri's isolation forbids")]
fn the_only_import_cycle_is_the_named_knot() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = module_files(&src);
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let reexports = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &files {
        let code = without_tests(&strip_comments(text));
        let mut deps = BTreeSet::new();
        for path in referenced_paths(module, &code) {
            if let Some(dep) = resolve(&path, &modules, &reexports) {
                // A module's own children are declared by it, not imported.
                if dep != *module && !dep.starts_with(&format!("{module}::")) && !dep.is_empty() {
                    deps.insert(dep);
                }
            }
        }
        if !module.is_empty() {
            graph.insert(module.clone(), deps);
        }
    }
    let cycles: Vec<BTreeSet<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    let knot: BTreeSet<String> = KNOT.iter().map(|s| s.to_string()).collect();
    let shown: String = graph
        .iter()
        .map(|(m, d)| {
            format!(
                "  {m} -> {}\n",
                d.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(
        cycles.len() == 1 && cycles[0] == knot,
        "import cycles {cycles:?}; only the knot {knot:?} may be one.\nThe graph:\n{shown}"
    );
}

/// Module path (`time::sleep`, `""` for lib.rs) → file text, for every file
/// but loom models.
fn module_files(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p.contains("loom")) {
                continue;
            }
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            out.insert(parts.join("::"), fs::read_to_string(&path).unwrap());
        }
    }
    out
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Cuts inline test modules, which sit at the end of a file.
fn without_tests(code: &str) -> String {
    match code.find("#[cfg(test)]") {
        Some(at) => code[..at].to_string(),
        None => code.to_string(),
    }
}

/// Every `crate::`/`super::` path `module`'s code names, as absolute module
/// paths (segments after `crate`).
fn referenced_paths(module: &str, code: &str) -> Vec<Vec<String>> {
    // `super` names the parent module (of `time::sleep`, `time`).
    let mut parent: Vec<String> = module
        .split("::")
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    parent.pop();
    let mut out = Vec::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        let Some(tree) = statement
            .strip_prefix("pub(crate) use ")
            .or_else(|| statement.strip_prefix("pub use "))
            .or_else(|| statement.strip_prefix("use "))
        else {
            continue;
        };
        let tree = compact(tree);
        let base = if let Some(rest) = tree.strip_prefix("crate::") {
            (Vec::new(), rest.to_string())
        } else if let Some(rest) = tree.strip_prefix("super::") {
            (parent.clone(), rest.to_string())
        } else {
            continue;
        };
        expand(&base.0, &base.1, &mut out);
    }
    // `crate::a::b` written inline in code.
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at + "crate::".len()..];
        let path: Vec<String> = tail
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("")
            .split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        out.push(path);
        rest = tail;
    }
    out
}

/// A use tree without white space, renames marked `@` (`A as B` → `A@B`).
fn compact(tree: &str) -> String {
    tree.replace(" as ", "@").split_whitespace().collect()
}

/// Expands a use tree such as `a::{b, c::{d as e, self}}` under `prefix`.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let (head, group) = match tree.find('{') {
        Some(open) => (&tree[..open], Some(&tree[open + 1..tree.len() - 1])),
        None => (tree, None),
    };
    let mut path = prefix.to_vec();
    for segment in head.split("::").filter(|s| !s.is_empty()) {
        if segment == "super" {
            path.pop();
        } else {
            path.push(segment.split('@').next().unwrap().to_string());
        }
    }
    let Some(group) = group else {
        out.push(path);
        return;
    };
    let mut depth = 0;
    let mut start = 0;
    let bytes: Vec<char> = group.chars().collect();
    for (i, c) in bytes.iter().enumerate() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let item: String = bytes[start..i].iter().collect();
                expand_item(&path, &item, out);
                start = i + 1;
            }
            _ => {}
        }
    }
    let item: String = bytes[start..].iter().collect();
    expand_item(&path, &item, out);
}

fn expand_item(path: &[String], item: &str, out: &mut Vec<Vec<String>>) {
    let item = item.split('@').next().unwrap_or("").trim();
    if item.is_empty() || item == "self" {
        out.push(path.to_vec());
    } else {
        expand(path, item, out);
    }
}

/// `pub use m::{A, B}` in lib.rs: item name → the module it comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut paths = Vec::new();
    for statement in lib.split(';') {
        if let Some(tree) = statement.trim().strip_prefix("pub use ") {
            expand(&[], &compact(tree), &mut paths);
        }
    }
    for path in paths {
        if let (Some(name), true) = (path.last(), path.len() > 1) {
            out.insert(name.clone(), path[0].clone());
        }
    }
    out
}

/// The longest prefix of `path` that is a module; an item re-exported at the
/// root resolves to the module it comes from.
fn resolve(
    path: &[String],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Option<String> {
    if path.len() == 1 {
        if let Some(module) = reexports.get(&path[0]) {
            return Some(module.clone());
        }
    }
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|candidate| modules.contains(candidate))
}

/// Tarjan's algorithm, iteratively simple enough for a few dozen modules.
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.out
}
