//! The one vocabulary: the cases the Go and Cargo generators used to map differently, and the facts every name the
//! mapping can emit must come from.

use oe_license::{DEPRECATED_IDS, WITH_NAMES, common_licenses, convert, is_common_license, spdx_license_map, terms};

/// `(SPDX expression, OE LICENSE, names without generic text)`. The comment says what each generator wrote before
/// they shared this crate (go-facts `spdx_to_oe`, cargo-recipe `spdx`).
const CASES: &[(&str, &str, &[&str])] = &[
    // go: `GPL-2.0-only-with-Linux-syscall-note` (no such text); cargo: the combined name.
    ("GPL-2.0-only WITH Linux-syscall-note", "GPL-2.0-with-Linux-syscall-note", &[]),
    // The deprecated id means "only" (SPDXLICENSEMAP). go: `GPL-2.0-with-Linux-syscall-note` by accident of spelling.
    ("GPL-2.0 WITH Linux-syscall-note", "GPL-2.0-with-Linux-syscall-note", &[]),
    // OE-Core's combined texts are of one version: or-later keeps both names, the note without a generic text.
    ("GPL-2.0-or-later WITH Linux-syscall-note", "GPL-2.0-or-later & Linux-syscall-note", &["Linux-syscall-note"]),
    // go: `LGPL-2.0` (no such text in common-licenses); cargo: LGPL-2.0-only.
    ("LGPL-2.0", "LGPL-2.0-only", &[]),
    // go: `LGPL-2.0+` (no such text); cargo: LGPL-2.0-or-later.
    ("LGPL-2.0+", "LGPL-2.0-or-later", &[]),
    // go: an error (`/` was not an operator); cargo: OR.
    ("MIT/Apache-2.0", "MIT | Apache-2.0", &[]),
    ("MIT / Apache-2.0", "MIT | Apache-2.0", &[]),
    ("0BSD OR MIT", "0BSD | MIT", &[]),
    // go: `GPL-3.0-or-later-with-GCC-exception-3.1`; cargo: `GPL-3.0-or-later & GCC-exception-3.1`.
    ("GPL-3.0-or-later WITH GCC-exception-3.1", "GPL-3.0-or-later & GCC-exception-3.1", &["GCC-exception-3.1"]),
    ("GPL-3.0-only WITH GCC-exception-3.1", "GPL-3.0-with-GCC-exception", &[]),
    // go: `AGPL-3.0-only`; same now through SPDXLICENSEMAP.
    ("AGPL-3.0", "AGPL-3.0-only", &[]),
    ("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT", "Apache-2.0-with-LLVM-exception | Apache-2.0 | MIT", &[]),
    // go: `(MIT | Apache-2.0) & BSD-3-Clause` as one parenthesised term; as a value both agree.
    ("(MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT | Apache-2.0) & BSD-3-Clause", &[]),
    // Unknown to OE-Core: kept, and reported for NO_GENERIC_LICENSE (go wrote it without NO_GENERIC_LICENSE).
    ("LicenseRef-acme OR MIT", "LicenseRef-acme | MIT", &["LicenseRef-acme"]),
    ("Apache-2.0 WITH Swift-exception", "Apache-2.0 & Swift-exception", &["Swift-exception"]),
];

#[test]
fn the_cases_the_generators_disagreed_on_have_one_answer() {
    for (spdx, want, unknown) in CASES {
        let (got, got_unknown) = convert(spdx).unwrap_or_else(|e| panic!("{spdx}: {e}"));
        assert_eq!(got, *want, "{spdx}");
        assert_eq!(got_unknown, *unknown, "{spdx}: names without generic text");
    }
}

/// Neither an SPDX id nor `LicenseRef-`: go accepted any word (`Foo-1.0` went into LICENSE as it was), cargo
/// reported it without generic text. Now it is a parse error: the caller decides (cargo-recipe records
/// `LicenseRef-<crate>`, a Go licence fact must say `LicenseRef-…`).
#[test]
fn words_that_are_not_spdx_ids_are_errors() {
    for bad in ["Foo-1.0", "BSD-0-Clause", "MIT OR Foo", "Unknown"] {
        assert!(convert(bad).is_err(), "{bad}");
    }
}

#[test]
fn go_style_terms_of_an_and_expression_are_its_operands() {
    let t: Vec<_> = terms(&oe_license::parse("MIT AND Apache-2.0").unwrap()).0.into_iter().map(|t| t.text).collect();
    assert_eq!(t, ["MIT", "Apache-2.0"]);
    let t: Vec<_> = terms(&oe_license::parse("MIT OR Apache-2.0").unwrap()).0.into_iter().map(|t| t.text).collect();
    assert_eq!(t, ["(MIT | Apache-2.0)"]);
}

/// A typo in a table (or an OE-Core bump that renames a text) fails here, not in a user's build.
#[test]
fn every_name_the_mapping_emits_is_an_oe_core_common_licence() {
    assert!(common_licenses().count() > 700, "the committed common-licenses list is loaded");
    let mut checked = 0;
    for (key, oe) in spdx_license_map() {
        assert!(is_common_license(oe), "SPDXLICENSEMAP[{key}] = {oe}: not in facts/common-licenses.txt");
        checked += 1;
    }
    for (id, oe) in DEPRECATED_IDS {
        assert!(is_common_license(oe), "DEPRECATED_IDS {id} → {oe}: not in facts/common-licenses.txt");
    }
    for (lic, exception, oe) in WITH_NAMES {
        assert!(is_common_license(oe), "WITH_NAMES {lic} WITH {exception} → {oe}: not in facts/common-licenses.txt");
        assert!(is_common_license(lic), "WITH_NAMES: the licence {lic} is not an OE name");
        // The combination is reachable: the SPDX ids parse and map to it.
        assert_eq!(convert(&format!("{lic} WITH {exception}")).unwrap().0, *oe);
    }
    assert!(checked > 60, "the committed SPDXLICENSEMAP is loaded");
}
