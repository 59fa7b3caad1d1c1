//! The help as people read it, as a specification: `-h` a summary with
//! headings and examples, `--help` every flag, wrapped to the terminal; a
//! flag the same on every command that has it; no command's help naming a
//! flag it does not take; man pages that list only what the command takes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

/// Every subcommand (`handoff help` aside).
const COMMANDS: [&str; 14] = [
    "run",
    "rerun",
    "track",
    "runs",
    "report",
    "history",
    "prune",
    "backup",
    "ledger",
    "receive",
    "simulate",
    "completions",
    "man",
    "config",
];

/// The commands that read or keep the ledger with no report of their own
/// to find it beside; `prune` names its ledger (it deletes).
const LEDGER_READERS: [&str; 5] = ["runs", "report", "history", "ledger", "backup"];

/// `handoff ARGS` in `dir` with `COLUMNS` set (no terminal: stdout and
/// stderr are pipes, so `COLUMNS` is the width).
fn handoff_in(dir: &Path, columns: usize, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(args)
        .current_dir(dir)
        .env("COLUMNS", columns.to_string())
        .env_remove("ONEMSG_CHANNEL_ID")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_TEMPLATE")
        .env_remove("ONEMSG_NAMESPACE")
        .env_remove("ONEMSG_LANGUAGE")
        .env_remove("ONEMSG_TOKEN_IN")
        .env_remove("HANDOFF_WEBHOOK_SECRET")
        .output()
        .expect("handoff runs")
}

/// The help text `args` prints at `columns` wide.
fn help(columns: usize, args: &[&str]) -> String {
    let out = handoff_in(Path::new("."), columns, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

/// `sub`'s `-h` or `--help` (`sub` empty: `handoff`'s own).
fn help_of(sub: &str, flag: &str, columns: usize) -> String {
    let args: Vec<&str> = [sub, flag].into_iter().filter(|a| !a.is_empty()).collect();
    help(columns, &args)
}

/// The long flags a help text lists as its own (the lines that start
/// with a flag).
fn own_flags(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("-").filter(|_| l.len() > 3)?;
            let l = match l.strip_prefix('-') {
                Some(long) => long,
                // `-q, --quiet`
                None => l.split_once(", --")?.1,
            };
            let name: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Some(format!("--{name}"))
        })
        .collect()
}

/// Every `--flag` a text names, in order.
fn named_flags(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("--") {
        let before = rest[..i].chars().next_back();
        let after = &rest[i + 2..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            && name.starts_with(|c: char| c.is_ascii_lowercase())
        {
            found.push(format!("--{}", name.trim_end_matches('-')));
        }
        rest = &after[name.len()..];
    }
    found
}

/// The text without the `…` spans that quote another command
/// (`handoff simulate --profile`, `run --log-format`): a flag named there
/// is that command's.
fn without_other_commands(text: &str) -> String {
    let mut kept = String::new();
    for (i, part) in text.split('`').enumerate() {
        let first = part.split_whitespace().next().unwrap_or("");
        let quotes_a_command = i % 2 == 1 && (first == "handoff" || COMMANDS.contains(&first));
        if !quotes_a_command {
            kept.push_str(part);
            kept.push(' ');
        }
    }
    kept
}

#[test]
fn run_h_is_a_summary_with_headings_and_examples() {
    for columns in [80, 100] {
        let short = help_of("run", "-h", columns);
        let lines = short.lines().count();
        assert!(
            lines <= 40,
            "`run -h` has {lines} lines at {columns}:\n{short}"
        );
        for heading in [
            "Input:",
            "Sending:",
            "Tracking:",
            "API:",
            "Outputs:",
            "Logs:",
            "Examples:",
        ] {
            assert!(
                short.lines().any(|l| l == heading),
                "{heading} in `run -h`:\n{short}"
            );
        }
        let examples = short.split("Examples:\n").nth(1).expect("examples");
        assert!(
            examples
                .lines()
                .any(|l| l.trim().starts_with("handoff run "))
        );
        // The summary leads to the rest.
        assert!(short.contains("--help"), "{short}");
    }
    // `--help` is the long form: every flag, the rare ones too, and the
    // same headings.
    let long = help_of("run", "--help", 80);
    let short = help_of("run", "-h", 80);
    let (all, shown) = (own_flags(&long), own_flags(&short));
    assert!(shown.is_subset(&all));
    for rare in [
        "--history-proves-absence",
        "--pair-interval",
        "--drop-columns",
    ] {
        assert!(all.contains(rare) && !shown.contains(rare), "{rare}");
    }
    assert!(long.lines().any(|l| l == "Tracking:"));
    assert!(long.contains("Examples:"));
}

#[test]
fn every_help_fits_80_columns_and_wraps_no_word() {
    for sub in std::iter::once("").chain(COMMANDS) {
        for flag in ["-h", "--help"] {
            let narrow = help_of(sub, flag, 80);
            for line in narrow.lines() {
                let width = line.chars().count();
                assert!(
                    width <= 80,
                    "`handoff {sub} {flag}`: a line of {width} columns:\n{line}"
                );
            }
            // Unwrapped, the same words in the same order: wrapping only
            // moved line breaks, and cut no word in two.
            let wide = help_of(sub, flag, 10_000);
            let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
            let (wide, narrow) = (words(&wide), words(&narrow));
            if wide != narrow {
                let at = wide.iter().zip(&narrow).position(|(a, b)| a != b);
                let at = at.unwrap_or(wide.len().min(narrow.len()));
                panic!(
                    "`handoff {sub} {flag}` at 80 columns reads `{:?}` where the unwrapped help reads `{:?}`",
                    &narrow[at..(at + 3).min(narrow.len())],
                    &wide[at..(at + 3).min(wide.len())],
                );
            }
        }
    }
}

#[test]
fn a_commands_help_names_only_flags_it_takes() {
    for sub in COMMANDS {
        let text = help_of(sub, "--help", 10_000);
        let own = own_flags(&text);
        for flag in named_flags(&without_other_commands(&text)) {
            assert!(
                own.contains(&flag),
                "`handoff {sub} --help` names {flag}, which {sub} does not take:\n{text}"
            );
        }
    }
    // The copied text that started it: rerun reads no country column.
    for flag in ["-h", "--help"] {
        let rerun = help_of("rerun", flag, 80);
        assert!(!rerun.contains("--map"), "{rerun}");
    }
    // run has it, and says what it does to --default-country.
    let run = help_of("run", "--help", 10_000);
    assert!(run.contains("a row's country column (--map country=…) wins"));
}

#[test]
fn every_flag_has_a_help_line() {
    for sub in COMMANDS {
        let text = help_of(sub, "--help", 200);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let starts_a_flag = line.starts_with("  -") || line.starts_with("      --");
            if !starts_a_flag {
                continue;
            }
            // Beside the flag (a command with no long help lays `--help`
            // out as `-h`), or on the next line.
            let beside = line.trim().split_once("  ").is_some();
            let next = lines.get(i + 1).copied().unwrap_or("");
            let below = next.starts_with("          ") && !next.trim().is_empty();
            assert!(
                beside || below,
                "`handoff {sub} --help`: `{}` has no help line",
                line.trim()
            );
        }
    }
    let simulate = help_of("simulate", "--help", 200);
    assert!(simulate.contains("--slow-delay"));
}

#[test]
fn the_man_page_of_a_subcommand_lists_only_what_it_takes() {
    let here = Path::new(".");
    let refused = handoff_in(here, 80, &["run", "-V"]);
    assert_eq!(refused.status.code(), Some(64));
    for sub in COMMANDS {
        let page = String::from_utf8(handoff_in(here, 80, &["man", sub]).stdout).unwrap();
        assert!(page.contains(&format!(".TH handoff-{sub} 1")), "{sub}");
        assert!(
            !page.contains("\\-V") && !page.contains("\\-\\-version"),
            "handoff-{sub}(1) lists -V, which `handoff {sub}` refuses"
        );
    }
    // `handoff` itself takes -V, and its page says so.
    let root = String::from_utf8(handoff_in(here, 80, &["man"]).stdout).unwrap();
    assert!(root.contains("\\-\\-version"));
    // The examples of --help are on the page.
    let run = String::from_utf8(handoff_in(here, 80, &["man", "run"]).stdout).unwrap();
    let examples = run
        .split(".SH EXAMPLES")
        .nth(1)
        .expect("an EXAMPLES section");
    assert!(examples.contains("handoff run deliveries.csv \\-\\-dry\\-run"));
}

/// The block of `--ledger` in a `--help` text: its lines up to the next flag.
fn ledger_block(text: &str) -> String {
    let mut block = Vec::new();
    for line in text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("--ledger"))
    {
        if !block.is_empty() && line.trim_start().starts_with('-') {
            break;
        }
        block.push(line.trim());
    }
    block.join(" ")
}

#[test]
fn ledger_means_one_file_with_one_default() {
    // Every command that reads or keeps the ledger without a report beside
    // it says the same of --ledger, with the same default.
    let blocks: Vec<String> = LEDGER_READERS
        .iter()
        .map(|sub| ledger_block(&help_of(sub, "--help", 10_000)))
        .collect();
    for (sub, block) in LEDGER_READERS.iter().zip(&blocks) {
        assert!(
            block.contains("[default: handoff.ledger.sqlite]"),
            "{sub}: {block}"
        );
        assert_eq!(
            block, &blocks[0],
            "`{sub} --ledger` reads as `runs --ledger`"
        );
    }
    // The commands that write a report keep it beside that report: the
    // same file when the report is written in the current folder.
    for sub in ["run", "rerun", "track"] {
        let block = ledger_block(&help_of(sub, "--help", 10_000));
        assert!(
            block.contains("Default: handoff.ledger.sqlite beside the report"),
            "{sub}: {block}"
        );
    }
    // prune deletes: it takes no default, and says why.
    let prune = ledger_block(&help_of("prune", "--help", 10_000));
    assert!(!prune.contains("[default:"), "{prune}");
    assert!(prune.contains("prune deletes"), "{prune}");
}

#[test]
fn the_ledger_commands_read_the_ledger_of_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let cases: [(&str, &[&str]); 5] = [
        ("runs", &["runs"]),
        ("report", &["report", "--out", "again.csv"]),
        ("history", &["history", "A-1"]),
        ("ledger", &["ledger"]),
        ("backup", &["backup", "copy.sqlite"]),
    ];
    // No ledger here: each says so and creates none.
    for (sub, args) in cases {
        let out = handoff_in(here, 80, args);
        assert_eq!(out.status.code(), Some(66), "{sub}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no ledger at `handoff.ledger.sqlite`"),
            "{sub}: {err}"
        );
    }
    assert!(!here.join("handoff.ledger.sqlite").exists());
    // prune without --ledger is a usage error, whatever the folder holds.
    assert_eq!(
        handoff_in(here, 80, &["prune", "--older-than", "400d"])
            .status
            .code(),
        Some(64)
    );
    // A rehearsal recorded into handoff.ledger.sqlite here: the same
    // commands, without --ledger, read it.
    std::fs::write(
        here.join("d.csv"),
        "Order Number,Partner Name,Partner Phone,Product Name,Delivery Note\n\
         A-1,Ada,+49 151 2345 6701,Lamp,Thanks\n",
    )
    .unwrap();
    let night = handoff_in(
        here,
        80,
        &[
            "run",
            "d.csv",
            "--simulate",
            "--ledger",
            "handoff.ledger.sqlite",
            "--track-for",
            "0s",
            "-q",
        ],
    );
    assert!(
        matches!(night.status.code(), Some(0 | 10)),
        "{}",
        String::from_utf8_lossy(&night.stderr)
    );
    for (sub, args) in cases {
        let out = handoff_in(here, 80, args);
        assert!(
            matches!(out.status.code(), Some(0 | 10)),
            "{sub}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(here.join("copy.sqlite").is_file());
    let runs = handoff_in(here, 80, &["runs", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(v["ledger"], "handoff.ledger.sqlite");
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(1));
}

#[test]
fn quiet_means_one_thing_everywhere() {
    // -q on every command that has it: the same words, short and long.
    let with_quiet = ["run", "rerun", "track", "report", "receive"];
    for flag in ["-h", "--help"] {
        let texts: Vec<String> = with_quiet
            .iter()
            .map(|sub| {
                let text = help_of(sub, flag, 10_000);
                let line = text.lines().position(|l| l.contains("-q, --quiet"));
                let at = line.unwrap_or_else(|| panic!("{sub} {flag} shows -q"));
                let lines: Vec<&str> = text.lines().skip(at).collect();
                let mut said = vec![lines[0].replace("-q, --quiet", "").trim().to_string()];
                said.extend(
                    lines[1..]
                        .iter()
                        .take_while(|l| !l.trim_start().starts_with('-') && !l.trim().is_empty())
                        .map(|l| l.trim().to_string()),
                );
                said.join(" ").trim().to_string()
            })
            .collect();
        for (sub, text) in with_quiet.iter().zip(&texts) {
            assert!(
                text.starts_with("Only warnings and errors on stderr"),
                "{sub}: {text}"
            );
            assert_eq!(text, &texts[0], "`{sub} {flag}`'s -q");
        }
    }
}

#[test]
fn the_options_page_lists_every_flag_of_run() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/options.md")).unwrap();
    let table: BTreeSet<String> = page
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .flat_map(|l| named_flags(l.split(" | ").next().unwrap_or("")))
        .collect();
    let mut flags = own_flags(&help_of("run", "--help", 10_000));
    flags.remove("--help");
    assert_eq!(table, flags, "docs/options.md's table and `run --help`");
}
