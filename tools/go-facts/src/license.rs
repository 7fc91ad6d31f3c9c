//! License identification: SPDX expressions → OE license names, a small license-text matcher, and the
//! maintainer's md5 decisions for texts no tool identified.
//!
//! The matcher is deliberately small (key phrases of the license families Go modules actually use) instead of a
//! full SPDX corpus crate: it runs only on texts `resolve` has at hand, keeps `k3s-bake` quick to build, and says
//! `None` rather than guessing — an unidentified text then has to be decided by a maintainer, visibly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::FactsError;
use crate::store::is_hex;

/// What fact sources write when they could not identify a license text (a value of the facts store's model).
pub use crate::store::UNKNOWN;

/// Identifies a license text. An `SPDX-License-Identifier:` line in the text wins (it is how dual-licensed
/// projects say "either of"); otherwise every license family found is AND-joined (yaml.v3's MIT + Apache-2.0).
pub fn detect(text: &str) -> Option<String> {
    if let Some(expr) = declared_spdx(text) {
        return Some(expr);
    }
    let norm: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '.' || c == '-' { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let has = |p: &str| norm.contains(p);
    let mut found = Vec::new();
    if has("apache license") && has("version 2.0") {
        found.push("Apache-2.0");
    }
    if has("mozilla public license") && has("2.0") {
        found.push("MPL-2.0");
    }
    if has("permission is hereby granted free of charge to any person obtaining a copy")
        && has("the above copyright notice and this permission notice shall be included")
    {
        found.push("MIT");
    }
    if has(
        "permission to use copy modify and or distribute this software for any purpose with or without fee is hereby granted",
    ) || has(
        "permission to use copy modify and distribute this software for any purpose with or without fee is hereby granted",
    ) {
        found.push("ISC");
    }
    if has("redistribution and use in source and binary forms with or without modification are permitted") {
        if has("neither the name") || has("endorse or promote products derived") {
            found.push("BSD-3-Clause");
        } else {
            found.push("BSD-2-Clause");
        }
    }
    if has("this is free and unencumbered software released into the public domain") {
        found.push("Unlicense");
    }
    if has("creative commons") && has("cc0") {
        found.push("CC0-1.0");
    }
    if found.is_empty() {
        return None;
    }
    found.sort_unstable();
    Some(found.join(" AND "))
}

/// The expression of the first well-formed `SPDX-License-Identifier:` line.
fn declared_spdx(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (_, rest) = l.split_once("SPDX-License-Identifier:")?;
        let expr = rest.trim().trim_end_matches("-->").trim().trim_end_matches(['`', '*', '/']).trim();
        spdx_to_oe(expr).ok().map(|_| expr.to_owned())
    })
}

/// Converts an SPDX expression to OE's LICENSE syntax through the layer's one vocabulary (`oe-license`, shared
/// with the Cargo generator); returns the terms to AND-join (an AND expression splits into its operands so they
/// de-duplicate with other files' terms).
pub fn spdx_to_oe(expr: &str) -> Result<Vec<String>, String> {
    Ok(oe_terms(expr)?.0.into_iter().map(|t| t.text).collect())
}

/// [`spdx_to_oe`] as `oe-license` terms (with their order-independent keys), and the names OE-Core ships no text
/// for (the recipe needs `NO_GENERIC_LICENSE` for each).
pub fn oe_terms(expr: &str) -> Result<(Vec<oe_license::Term>, Vec<String>), String> {
    if expr.trim() == UNKNOWN {
        return Err(format!("{expr:?} does not identify a license"));
    }
    let parsed = oe_license::parse(expr).map_err(|e| e.to_string())?;
    Ok(oe_license::terms(&parsed))
}

/// A maintainer's identification of a license text no fact source identified, by md5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// SPDX expression.
    pub spdx: String,
    /// How it was identified (kept in the file for reviewers).
    pub basis: String,
}

/// The decisions file: `md5<TAB>spdx<TAB>basis`, `#` comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decisions {
    /// By md5.
    pub by_md5: BTreeMap<String, Decision>,
}

impl Decisions {
    /// Reads a decisions file. A missing file is an error (a mistyped `--decisions` is not "no decisions").
    pub fn load(path: &Path) -> Result<Decisions, FactsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Decisions::parse(&path.display().to_string(), &text),
            Err(source) => Err(FactsError::Io { path: path.display().to_string(), source }),
        }
    }

    /// Parses decisions text.
    pub fn parse(file: &str, text: &str) -> Result<Decisions, FactsError> {
        let mut d = Decisions::default();
        for (idx, raw) in text.lines().enumerate() {
            let err = |message: String| FactsError::Parse { file: file.to_owned(), line: idx + 1, message };
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = raw.split('\t').collect();
            let [md5, spdx, basis] = f[..] else {
                return Err(err("expected `md5<TAB>SPDX expression<TAB>how it was identified`".into()));
            };
            if !is_hex(md5, 32) {
                return Err(err(format!("{md5:?} is not a 32-hex md5")));
            }
            spdx_to_oe(spdx).map_err(&err)?;
            if basis.trim().is_empty() {
                return Err(err("a decision must say how the text was identified".into()));
            }
            if d.by_md5.insert(md5.into(), Decision { spdx: spdx.into(), basis: basis.into() }).is_some() {
                return Err(err(format!("md5 {md5} decided twice")));
            }
        }
        Ok(d)
    }

    /// Serialises, sorted by md5.
    pub fn to_tsv(&self, header: &str) -> String {
        let mut out = header.to_owned();
        for (md5, d) in &self.by_md5 {
            let _ = writeln!(out, "{md5}\t{}\t{}", d.spdx, d.basis);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oe_names() {
        assert_eq!(spdx_to_oe("MIT").unwrap(), ["MIT"]);
        assert_eq!(spdx_to_oe("MIT AND Apache-2.0").unwrap(), ["MIT", "Apache-2.0"]);
        assert_eq!(spdx_to_oe("MIT OR Apache-2.0").unwrap(), ["(MIT | Apache-2.0)"]);
        assert_eq!(spdx_to_oe("(MIT OR Apache-2.0) AND BSD-3-Clause").unwrap(), ["(MIT | Apache-2.0)", "BSD-3-Clause"]);
        assert_eq!(spdx_to_oe("GPL-2.0").unwrap(), ["GPL-2.0-only"]);
        assert_eq!(spdx_to_oe("Apache-2.0 WITH LLVM-exception").unwrap(), ["Apache-2.0-with-LLVM-exception"]);
        for bad in ["", "Unknown", "MIT AND", "AND MIT", "(MIT", "MIT)", "M I T", "a;b"] {
            assert!(spdx_to_oe(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn detects_common_texts() {
        let mit = "MIT License\n\nCopyright (c) 2020 X\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software... The above copyright notice and this permission notice shall be included in all\ncopies.";
        assert_eq!(detect(mit).as_deref(), Some("MIT"));
        let bsd3 = "Redistribution and use in source and binary forms, with or without\nmodification, are permitted provided that... Neither the name of Google Inc. nor ...";
        assert_eq!(detect(bsd3).as_deref(), Some("BSD-3-Clause"));
        let bsd2 = "Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:";
        assert_eq!(detect(bsd2).as_deref(), Some("BSD-2-Clause"));
        assert_eq!(
            detect(
                "                                 Apache License\n                           Version 2.0, January 2004"
            )
            .as_deref(),
            Some("Apache-2.0")
        );
        assert_eq!(detect(&format!("{mit}\n\nApache License Version 2.0")).as_deref(), Some("Apache-2.0 AND MIT"));
        assert_eq!(detect("All rights reserved."), None);
        let dual =
            "dual-licensed under either of Apache 2.0 or MIT\n<!--- SPDX-License-Identifier: Apache-2.0 OR MIT -->\n";
        assert_eq!(detect(dual).as_deref(), Some("Apache-2.0 OR MIT"));
        assert_eq!(
            detect("`SPDX-License-Identifier: BSD-3-Clause AND MPL-2.0`\n").as_deref(),
            Some("BSD-3-Clause AND MPL-2.0")
        );
    }

    #[test]
    fn decisions_file() {
        let d = Decisions::parse("d.tsv", &format!("# c\n{}\tMIT\tread the text\n", "a".repeat(32))).unwrap();
        assert_eq!(d.by_md5.len(), 1);
        let e = Decisions::parse("d.tsv", &format!("{}\tUnknown\tx\n", "a".repeat(32))).unwrap_err().to_string();
        assert!(e.starts_with("d.tsv:1:") && e.contains("does not identify"), "{e}");
        assert!(Decisions::parse("d.tsv", &format!("{}\tMIT\t \n", "a".repeat(32))).is_err());
    }
}
