//! The layout's rules, checked on the source itself (issue 11): imports
//! point one way (no circle between the top-level modules, none between
//! the files of one folder), in the product and in the simulator crate;
//! only the recorder and the ledger hold the ledger for writing; the
//! simulator depends on nothing of the product, and only the product's edge
//! (cli, app) reaches it. Run alone: `cargo test --test integration layout`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One source file: its module path (`commands::run`) and its text, with
/// `//` comments removed so a doc comment naming a module is not an import.
struct Source {
    module: Vec<String>,
    path: PathBuf,
    text: String,
}

/// The workspace's crates: each one's `src/`, and how many of its
/// top-level modules import another at least (a scan that found fewer
/// missed the imports).
const CRATES: [(&str, usize); 2] = [("src", 6), ("sim/src", 4)];

/// The product's sources.
fn sources() -> Vec<Source> {
    sources_in("src")
}

/// The sources of the crate whose `src/` is `dir` (from the workspace root).
fn sources_in(dir: &str) -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            if matches!(module.as_slice(), [m] if m == "lib" || m == "main") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(Source {
                module,
                path,
                text: without_tests(&text),
            });
        }
    }
    // Test-only files (`#[cfg(test)] mod fixtures;`) may use anything.
    let test_only: BTreeSet<Vec<String>> = out
        .iter()
        .flat_map(|s| {
            test_only_children(&std::fs::read_to_string(&s.path).unwrap())
                .into_iter()
                .map(|child| [s.module.clone(), vec![child]].concat())
        })
        .collect();
    out.retain(|s| !test_only.contains(&s.module));
    out.sort_by(|a, b| a.module.cmp(&b.module));
    out
}

/// The code a build uses: `//` comments and everything from a file's
/// `#[cfg(test)] mod tests` on (tests sit at the bottom and may import any
/// module; the rules are about the code that runs).
fn without_tests(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].split_whitespace().any(|t| t == "mod"))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The submodules a file declares for tests only: `#[cfg(test)] mod x;`.
fn test_only_children(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|w| w[0] == "#[cfg(test)]")
        .filter_map(|w| w[1].strip_prefix("mod ")?.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The paths that follow `prefix` (`crate::`, `super::`) in `text`, one
/// for each name of a `{a, b::c}` group: `["ledger::Verdict", "exit"]`.
fn paths_after(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    out.push(item.split(['{', ' ']).next().unwrap_or("").to_string());
                }
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            out.push(rest[..end].trim_end_matches(':').to_string());
        }
    }
    out
}

/// A circle in `edges`, if there is one, as the nodes along it.
fn find_circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut circle = stack[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(c) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_top_level_modules_import_one_way() {
    for (dir, least) in CRATES {
        top_level_modules_import_one_way(dir, least);
    }
}

fn top_level_modules_import_one_way(dir: &str, least: usize) {
    let sources = sources_in(dir);
    let tops: BTreeSet<String> = sources.iter().map(|s| s.module[0].clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &sources {
        let from = &s.module[0];
        for path in paths_after(&s.text, "crate::") {
            let to = path.split("::").next().unwrap_or("").to_string();
            if tops.contains(&to) && &to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    assert!(
        edges.len() >= least,
        "the scan found the imports of {dir}: {edges:?} (from {} files)",
        sources.len()
    );
    if let Some(circle) = find_circle(&edges) {
        panic!(
            "an import circle between the modules of {dir}: {}",
            circle.join(" -> ")
        );
    }
}

#[test]
fn the_files_of_a_folder_import_one_way() {
    let checked: usize = CRATES
        .iter()
        .map(|(dir, _)| folders_import_one_way(dir))
        .sum();
    assert!(checked > 10, "the scan found the folders' files: {checked}");
}

/// Checks each folder of one crate; how many files it checked.
fn folders_import_one_way(dir: &str) -> usize {
    let sources = sources_in(dir);
    let mut folders: BTreeMap<Vec<String>, Vec<&Source>> = BTreeMap::new();
    for s in sources.iter().filter(|s| s.module.len() > 1) {
        folders
            .entry(s.module[..s.module.len() - 1].to_vec())
            .or_default()
            .push(s);
    }
    let mut checked = 0;
    for (folder, files) in &folders {
        let siblings: BTreeSet<&str> = files
            .iter()
            .map(|s| s.module.last().unwrap().as_str())
            .collect();
        // What the folder's mod.rs re-exports, by name: `pub use x::{A, B}`.
        let owner: BTreeMap<String, String> = sources
            .iter()
            .filter(|s| &s.module == folder)
            .flat_map(|m| reexports(&m.text))
            .collect();
        let crate_prefix = format!("crate::{}::", folder.join("::"));
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in files {
            let from = s.module.last().unwrap().clone();
            let mut paths = paths_after(&s.text, "super::");
            paths.extend(paths_after(&s.text, &crate_prefix));
            for path in paths {
                let first = path.split("::").next().unwrap_or("");
                let to = if siblings.contains(first) {
                    first.to_string()
                } else if let Some(o) = owner.get(first) {
                    o.clone()
                } else {
                    continue;
                };
                if to != from {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
        checked += files.len();
        if let Some(circle) = find_circle(&edges) {
            panic!(
                "an import circle between the files of {dir}/{}/: {} ({})",
                folder.join("/"),
                circle.join(" -> "),
                files[0].path.display()
            );
        }
    }
    assert!(checked > 0, "the scan found the folders' files of {dir}");
    checked
}

/// `pub use x::{A, B};` and `pub use x::A;` in a mod.rs: name -> x.
fn reexports(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stmt in text.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            let name = name.trim().rsplit("::").next().unwrap_or("").trim();
            if !name.is_empty() && name != "*" {
                out.push((name.to_string(), module.trim().to_string()));
            }
        }
    }
    out
}

/// Whether `text` names `&mut Ledger` by any path (`&mut crate::ledger::Ledger`).
fn holds_ledger_mutably(text: &str) -> bool {
    text.match_indices("&mut").any(|(i, _)| {
        let path = text[i + 4..]
            .trim_start()
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("");
        path.rsplit("::").next() == Some("Ledger")
    })
}

/// A `&mut Ledger` is how run state is written; only the ledger itself and
/// the recorder (its single owner during a run) ever hold one.
#[test]
fn only_the_recorder_and_the_ledger_hold_the_ledger_for_writing() {
    let sources = sources();
    let writers: Vec<String> = sources
        .iter()
        .filter(|s| holds_ledger_mutably(&s.text))
        .map(|s| s.module.join("::"))
        .collect();
    assert!(
        writers.iter().any(|m| m == "recorder"),
        "the scan sees the recorder: {writers:?}"
    );
    let others: Vec<&String> = writers
        .iter()
        .filter(|m| *m != "recorder" && !m.starts_with("ledger"))
        .collect();
    assert!(
        others.is_empty(),
        "these modules hold `&mut Ledger`, so they write run state outside the recorder: {others:?}"
    );
}

/// Nothing below the commands sees clap (ripgrep's flags → HiArgs): the
/// stages take settings of their own, built by the command from the flags.
#[test]
fn only_the_cli_the_app_and_the_commands_see_the_flags() {
    let sources = sources();
    let above = ["cli", "app", "commands"];
    let mut seen = 0;
    let mut below: Vec<String> = Vec::new();
    for s in &sources {
        let names_cli = paths_after(&s.text, "crate::")
            .iter()
            .any(|p| p.split("::").next() == Some("cli"));
        if above.contains(&s.module[0].as_str()) {
            seen += usize::from(names_cli);
        } else if names_cli {
            below.push(s.module.join("::"));
        }
    }
    assert!(seen > 3, "the scan sees the commands use the flags: {seen}");
    assert!(
        below.is_empty(),
        "these modules below the commands import crate::cli: {below:?}"
    );
}

/// The simulator is a crate of its own so that the product's library holds
/// only the product: it names nothing of `handoff` (in its code, tests or
/// bench), nor lists it in its manifest, where only a dev-dependency could
/// close the circle unnoticed.
#[test]
fn the_simulator_depends_on_nothing_of_the_product() {
    let sim = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim");
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = ["src", "tests", "benches"]
        .iter()
        .map(|d| sim.join(d))
        .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20, "the scan found the simulator: {files:?}");
    let naming: Vec<&PathBuf> = files
        .iter()
        .filter(|f| !paths_after(&without_comments(f), "handoff::").is_empty())
        .collect();
    assert!(
        naming.is_empty(),
        "these simulator files name `handoff::`: {naming:?}"
    );

    let manifest: toml::Table = std::fs::read_to_string(sim.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    // `handoff = …`, or a renamed `x = { package = "handoff" }` or `{ path = ".." }`.
    fn names_handoff(table: &toml::Table) -> bool {
        table.iter().any(|(key, value)| {
            key == "handoff"
                || (key == "package" && value.as_str() == Some("handoff"))
                || (key == "path"
                    && value
                        .as_str()
                        .is_some_and(|p| p.trim_end_matches('/') == ".."))
                || value.as_table().is_some_and(names_handoff)
        })
    }
    assert_eq!(manifest["package"]["name"].as_str(), Some("handoff-sim"));
    assert!(
        !names_handoff(&manifest),
        "sim/Cargo.toml lists `handoff` as a dependency"
    );
}

/// A file's text without `//` comments (its tests kept: a test of the
/// simulator must not use the product either).
fn without_comments(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The product reaches the simulator at its edge only: the command line
/// (`simulate`'s flags, `run --simulate`'s target) and the dispatch. The
/// stages never know whether the API they talk to is simulated.
#[test]
fn only_the_cli_and_the_app_reach_the_simulator() {
    let sources = sources();
    let reaching: Vec<String> = sources
        .iter()
        .filter(|s| s.text.contains("handoff_sim::"))
        .map(|s| s.module.join("::"))
        .collect();
    assert!(
        reaching.iter().any(|m| m == "cli::config"),
        "the scan sees `run --simulate`: {reaching:?}"
    );
    let others: Vec<&String> = reaching
        .iter()
        .filter(|m| !(m.starts_with("cli") || *m == "app"))
        .collect();
    assert!(
        others.is_empty(),
        "these modules reach the simulator beyond the edge: {others:?}"
    );
}

/// `.ci/run` is what lands a change: a quoting slip in it (one merge put a
/// block inside its header comment) fails every CI run before a test runs.
#[test]
fn the_ci_script_parses() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run");
    let out = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&script).unwrap();
    let last = text.lines().rfind(|l| !l.trim().is_empty()).unwrap();
    assert_eq!(last, "cargo test", "the README's test command, last");
}

/// The project stands on its own: its sources, tests, README, benchmarks
/// and docs never send a reader to a document the repository does not hold
/// (the notes its developers keep beside it). This file names them, to
/// look for them.
#[test]
fn the_project_refers_only_to_documents_it_holds() {
    const ELSEWHERE: [&str; 6] = [
        "shared/docs",
        "design.md",
        "reliability.md",
        "api-variants.md",
        "1msg-api.md",
        "style.md",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = ["README.md", "BENCHMARKS.md", "Cargo.toml"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    let mut dirs: Vec<PathBuf> = ["src", "sim/src", "sim/tests", "tests", "docs"]
        .iter()
        .map(|d| root.join(d))
        .filter(|d| d.is_dir())
        .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if !path.ends_with("tests/layout.rs") {
                files.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if ELSEWHERE.iter().any(|d| line.contains(d)) {
                found.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(files.len() > 100, "read only {} files", files.len());
    assert!(
        found.is_empty(),
        "documents outside the repository:\n{}",
        found.join("\n")
    );
}

/// The markdown files a reader is sent through: the README and every page
/// of `docs/`.
fn markdown_pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let docs = root.join("docs");
    if docs.is_dir() {
        for entry in std::fs::read_dir(&docs).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// The targets of a markdown text's inline links (`[text](target)`),
/// outside code blocks and code spans, with their line numbers.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Code spans hold examples, not links.
        let prose: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            out.push((n + 1, rest[..end].trim().to_string()));
            rest = &rest[end..];
        }
    }
    out
}

/// Every relative link in the README and in `docs/` leads to a file or a
/// folder the repository holds: a page moved or renamed must take its
/// links along.
#[test]
fn every_relative_link_in_the_docs_leads_to_a_file() {
    let pages = markdown_pages();
    assert!(pages.len() > 1, "no docs/ pages: {pages:?}");
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for (line, target) in link_targets(&text) {
            if target.is_empty()
                || target.starts_with('#')
                || target.contains("://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let file = target.split('#').next().unwrap();
            checked += 1;
            if !page.parent().unwrap().join(file).exists() {
                broken.push(format!("{}:{line}: {target}", page.display()));
            }
        }
    }
    assert!(checked > 10, "only {checked} relative links found");
    assert!(
        broken.is_empty(),
        "links to files the repository does not hold:\n{}",
        broken.join("\n")
    );
}

/// The README is the user's first page, not the reference: at most 250
/// lines; the rest belongs in `docs/`.
#[test]
fn the_readme_stays_short() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lines = std::fs::read_to_string(root.join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; move detail to docs/"
    );
}
