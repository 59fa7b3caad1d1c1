//! The phone normaliser (and text cleaning) on arbitrary text, under several
//! default countries: no panic, and every accepted phone is 8-15 digits that
//! normalise to themselves in international form.
#![no_main]

use handoff::delivery::{Country, clean_text, normalize_phone_in};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let countries: Vec<Option<Country>> = [None, Some("DE"), Some("RU"), Some("US"), Some("IT")]
        .into_iter()
        .map(|c| c.map(|c| c.parse().expect("a known country")))
        .collect();
    for c in &countries {
        if let Ok(d) = normalize_phone_in(s, c.as_ref()) {
            assert!((8..=15).contains(&d.len()), "{s:?} -> {d}");
            assert!(d.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(normalize_phone_in(&format!("+{d}"), c.as_ref()), Ok(d));
        }
    }
    let _ = s.parse::<Country>();
    let (once, _) = clean_text(s);
    assert!(!once.contains(['\n', '\r', '\t']) && !once.contains("     "));
    assert_eq!(clean_text(&once), (once.clone(), false));
});
