//! The flags `k3s agent` and `k3s server` define, read the way k3s itself defines them: a tiny Go main, written
//! into a fresh directory inside the checked-out k3s module, imports `<module>/pkg/cli/cmds` and the urfave/cli
//! that package imports, calls `cmds.NewAgentCommand(nil)` / `cmds.NewServerCommand(nil)` and prints each flag's
//! names and Go type. `go run` runs it offline over the same `file://` GOPROXY and GOMODCACHE as [`crate::golist`]
//! with the recipe's build tags, so build-tagged and hidden flags count exactly as in the binary the recipe
//! builds. The result is the flag facts file ([`k3s_model::flags::facts`]) that `gen` renders the config
//! validation from.
//!
//! urfave/cli v1 (`github.com/urfave/cli`: `Name: "token,t"`, `Flag.GetName()`), v2
//! (`github.com/urfave/cli/v2`: `Name` + `Aliases`, `Flag.Names()`) and v3 (`github.com/urfave/cli/v3`: the same
//! names, `Flag.Names()`) are told apart by pkg/cli/cmds' imports; `NewAgentCommand` returns `cli.Command` in
//! v1-era k3s and `*cli.Command` later, and `.Flags` reads both. In v1/v2 each flag type is its own named struct
//! (`StringSliceFlag`), whose name maps to a [`Kind`]. v3's flag types are aliases of one generic struct,
//! `FlagBase[T, C, VC]` (`StringFlag = FlagBase[string, StringConfig, stringValue]`), so the type's name says
//! nothing a map could rely on: the program reads the Go type of the struct's `Value` field (`T`, the flag's
//! value: `string`, `[]string`, `time.Duration`, …) by reflection and that maps to the [`Kind`]. A type bump does
//! not know is an error naming the flag and the type.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use k3s_model::flags::facts::{FlagFact, FlagFacts};
use k3s_model::flags::{Command, Kind};

use crate::BumpError;

/// The urfave/cli major version pkg/cli/cmds is written against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    /// `github.com/urfave/cli`.
    V1,
    /// `github.com/urfave/cli/v2`.
    V2,
    /// `github.com/urfave/cli/v3`.
    V3,
}

impl Cli {
    /// The import path.
    pub const fn import_path(self) -> &'static str {
        match self {
            Cli::V1 => "github.com/urfave/cli",
            Cli::V2 => "github.com/urfave/cli/v2",
            Cli::V3 => "github.com/urfave/cli/v3",
        }
    }
}

/// The package bump reads.
pub const CMDS: &str = "pkg/cli/cmds";

/// The prefix of each line the Go program prints for a flag (other output, e.g. from a package's init, is not ours).
const MARK: &str = "k3s-bake-flag";

/// Which urfave/cli `pkg/cli/cmds` (non-test `.go` files under `src`) imports; exactly one must be imported.
pub fn detect(src: &Path) -> Result<Cli, BumpError> {
    let dir = src.join(CMDS);
    let rd = std::fs::read_dir(&dir).map_err(|e| BumpError::step(format!("listing {CMDS}"), e))?;
    let mut names: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "go") && !p.to_string_lossy().ends_with("_test.go"))
        .collect();
    names.sort();
    let (mut v1, mut v2, mut v3, mut other) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in &names {
        let text = std::fs::read_to_string(p).map_err(|e| BumpError::step(format!("reading {}", p.display()), e))?;
        let file = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for path in go_imports(&text) {
            let Some(rest) = path.strip_prefix("github.com/urfave/cli") else { continue };
            // The major version is the path's first element after the module root when it is `vN`; any other
            // first element (v1's `altsrc`) is a package of v1 itself.
            let first = rest.strip_prefix('/').map(|r| r.split('/').next().unwrap_or(""));
            let major =
                first.filter(|f| f.len() > 1 && f.starts_with('v') && f[1..].bytes().all(|b| b.is_ascii_digit()));
            match (rest.is_empty() || rest.starts_with('/'), major) {
                (false, _) => {} // another module (github.com/urfave/cli-foo)
                (true, None) => v1.push(file.clone()),
                (true, Some("v2")) => v2.push(file.clone()),
                (true, Some("v3")) => v3.push(file.clone()),
                (true, Some(_)) => other.push(format!("{file} ({path})")),
            }
        }
    }
    match (v1.is_empty(), v2.is_empty(), v3.is_empty(), other.is_empty()) {
        (false, true, true, true) => Ok(Cli::V1),
        (true, false, true, true) => Ok(Cli::V2),
        (true, true, false, true) => Ok(Cli::V3),
        (true, true, true, true) => {
            Err(BumpError::Msg(format!("{CMDS}: no file imports github.com/urfave/cli, /v2 or /v3")))
        }
        _ => Err(BumpError::Msg(format!(
            "{CMDS}: expected one urfave/cli major version (v1, v2 or v3), found v1 in {v1:?}, v2 in {v2:?}, v3 in \
             {v3:?}, other (not supported) {other:?}"
        ))),
    }
}

/// The import paths of a Go file (`import "p"`, `import x "p"`, `import ( ... )` blocks), up to its first
/// declaration.
fn go_imports(text: &str) -> Vec<String> {
    let quoted = |s: &str| -> Option<String> {
        let s = s.split("//").next()?.trim();
        let start = s.find('"')?;
        let rest = &s[start + 1..];
        Some(rest[..rest.find('"')?].to_owned())
    };
    let mut out = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let l = line.trim();
        if in_block {
            if l.starts_with(')') {
                in_block = false;
            } else if let Some(p) = quoted(l) {
                out.push(p);
            }
        } else if let Some(rest) = l.strip_prefix("import") {
            let rest = rest.trim_start();
            if rest.starts_with('(') {
                in_block = true;
            } else if let Some(p) = quoted(rest) {
                out.push(p);
            }
        } else if ["func ", "var ", "const ", "type "].iter().any(|d| l.starts_with(d)) {
            break;
        }
    }
    out
}

/// The Go program (stdlib, the urfave/cli of `cli` and `<module>/pkg/cli/cmds`).
pub fn program(module: &str, cli: Cli) -> String {
    let names = match cli {
        // v1: one Name holding "long,short" (urfave/cli v1 splits it on commas and trims each part).
        Cli::V1 => {
            "func names(f cli.Flag) []string {\n\tvar out []string\n\tfor _, n := range strings.Split(f.GetName(), \
             \",\") {\n\t\tout = append(out, strings.TrimSpace(n))\n\t}\n\treturn out\n}\n"
        }
        Cli::V2 | Cli::V3 => "func names(f cli.Flag) []string { return f.Names() }\n",
    };
    // v3: one more field, the Go type of the flag struct's `Value` field (FlagBase[T, C, VC].Value is a T).
    let (value_fn, value_fmt, value_arg) = match cli {
        Cli::V1 | Cli::V2 => ("", "", ""),
        Cli::V3 => (V3_VALUE_TYPE, "\\t%s", ", valueType(f)"),
    };
    format!(
        "// Written by `k3s-bake bump` into a scratch checkout of k3s and run once with `go run`; not part of k3s.\n\
         package main\n\n\
         import (\n\t\"fmt\"\n\t\"reflect\"\n\t\"strings\"\n\n\tcli \"{cli}\"\n\tcmds \"{module}/{CMDS}\"\n)\n\n\
         {names}\n\
         // typeName is the flag's Go type with its package path (*github.com/urfave/cli/v2.StringFlag), so a\n\
         // k3s-defined type of the same name is not taken for urfave's.\n\
         func typeName(v interface{{}}) string {{\n\tt := reflect.TypeOf(v)\n\tstars := \"\"\n\
         \tfor t.Kind() == reflect.Ptr {{\n\t\tstars += \"*\"\n\t\tt = t.Elem()\n\t}}\n\
         \treturn stars + t.PkgPath() + \".\" + t.Name()\n}}\n\n\
         {value_fn}\
         func dump(command string, flags []cli.Flag) {{\n\tfor _, f := range flags {{\n\
         \t\tfmt.Printf(\"{MARK}\\t%s\\t%s\\t%s\\t%T{value_fmt}\\n\", command, strings.Join(names(f), \",\"), typeName(f), f{value_arg})\n\
         \t}}\n}}\n\n\
         func main() {{\n\tdump(\"agent\", cmds.NewAgentCommand(nil).Flags)\n\
         \tdump(\"server\", cmds.NewServerCommand(nil).Flags)\n}}\n",
        cli = cli.import_path()
    )
}

/// The v3 program's `valueType`: the Go type of the flag struct's `Value` field, spelled with package paths
/// (`time.Duration`, `[]string`, `github.com/urfave/cli/v3.Value`), or why there is none.
const V3_VALUE_TYPE: &str = "// valueType is the Go type of the flag struct's Value field: urfave/cli v3's flag types are aliases of the\n\
// generic FlagBase[T, C, VC], whose Value is a T, so the kind is read from T, not from the type's name.\n\
func valueType(f cli.Flag) string {\n\tv := reflect.ValueOf(f)\n\
\tfor v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface {\n\t\tif v.IsNil() {\n\t\t\treturn \"(nil)\"\n\t\t}\n\
\t\tv = v.Elem()\n\t}\n\
\tif v.Kind() != reflect.Struct {\n\t\treturn \"(not a struct)\"\n\t}\n\
\tfield, ok := v.Type().FieldByName(\"Value\")\n\tif !ok {\n\t\treturn \"(no Value field)\"\n\t}\n\
\treturn spell(field.Type)\n}\n\n\
// spell names a type with its package path (time.Duration; []string; github.com/urfave/cli/v3.Value).\n\
func spell(t reflect.Type) string {\n\
\tswitch {\n\
\tcase t.Name() != \"\" && t.PkgPath() != \"\":\n\t\treturn t.PkgPath() + \".\" + t.Name()\n\
\tcase t.Name() != \"\":\n\t\treturn t.Name()\n\
\tcase t.Kind() == reflect.Ptr:\n\t\treturn \"*\" + spell(t.Elem())\n\
\tcase t.Kind() == reflect.Slice:\n\t\treturn \"[]\" + spell(t.Elem())\n\
\tcase t.Kind() == reflect.Map:\n\t\treturn \"map[\" + spell(t.Key()) + \"]\" + spell(t.Elem())\n\
\t}\n\treturn t.String()\n}\n\n";

/// The [`Kind`] of a urfave/cli v1/v2 flag type (`*github.com/urfave/cli/v2.StringSliceFlag`), if bump knows it
/// (v3's flag types are told by their value: [`kind_of_v3`]).
pub fn kind_of(cli: Cli, go_type: &str) -> Option<Kind> {
    if cli == Cli::V3 {
        return None;
    }
    let t = go_type.trim_start_matches('*');
    let name = t.strip_prefix(cli.import_path())?.strip_prefix('.')?;
    Some(match name {
        "BoolFlag" | "BoolTFlag" => Kind::Bool,
        "StringFlag" | "PathFlag" | "GenericFlag" => Kind::String,
        "IntFlag" | "Int64Flag" | "UintFlag" | "Uint64Flag" => Kind::Int,
        "DurationFlag" => Kind::Duration,
        n if n.ends_with("SliceFlag") => Kind::Slice,
        _ => return None,
    })
}

/// The Go integer types (`IntFlag` is `FlagBase[int, …]` in v3.1 and later, `FlagBase[int64, …]` before).
const GO_INTS: [&str; 10] = ["int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64"];

/// The [`Kind`] of a urfave/cli v3 flag: its type `go_type` must be one of urfave/cli v3's (the `FlagBase[…]` the
/// aliases name, `BoolWithInverseFlag`), `value_type` is the Go type of its `Value` field: `bool`; `string` or
/// the `Value` interface of `GenericFlag`; a Go integer; `time.Duration`; a slice of strings or integers. Floats,
/// maps (`StringMapFlag`), `time.Time` (`TimestampFlag`) and anything else: `None`.
pub fn kind_of_v3(go_type: &str, value_type: &str) -> Option<Kind> {
    go_type.trim_start_matches('*').strip_prefix(Cli::V3.import_path())?.strip_prefix('.')?;
    let generic = format!("{}.Value", Cli::V3.import_path());
    Some(match value_type {
        "bool" => Kind::Bool,
        "string" => Kind::String,
        t if t == generic => Kind::String,
        t if GO_INTS.contains(&t) => Kind::Int,
        "time.Duration" => Kind::Duration,
        t => match t.strip_prefix("[]") {
            Some(e) if e == "string" || GO_INTS.contains(&e) => Kind::Slice,
            _ => return None,
        },
    })
}

/// Parses the program's output into flag facts (provenance empty; the caller adds it).
pub fn parse_output(cli: Cli, out: &str) -> Result<FlagFacts, BumpError> {
    let mut facts = FlagFacts::default();
    let mut unknown = Vec::new();
    for line in out.lines() {
        let Some(rest) = line.strip_prefix(MARK).and_then(|r| r.strip_prefix('\t')) else { continue };
        let cols: Vec<&str> = rest.split('\t').collect();
        // v3's line has one more field: the Go type of the flag's Value.
        let (command, names, go_type, printed, value) = match (cli, &cols[..]) {
            (Cli::V1 | Cli::V2, &[c, n, t, p]) => (c, n, t, p, None),
            (Cli::V3, &[c, n, t, p, v]) => (c, n, t, p, Some(v)),
            _ => {
                let want = if cli == Cli::V3 { 6 } else { 5 };
                return Err(BumpError::Msg(format!(
                    "the flag reader printed {line:?}: expected {want} tab-separated fields"
                )));
            }
        };
        let cmd = Command::from_name(command)
            .ok_or_else(|| BumpError::Msg(format!("the flag reader printed command {command:?}")))?;
        let mut names = names.split(',').map(str::to_owned);
        let name = names.next().filter(|n| !n.is_empty()).ok_or_else(|| {
            BumpError::Msg(format!("k3s {command}: a flag of Go type {printed} has no name ({CMDS})"))
        })?;
        let kind = match value {
            None => kind_of(cli, go_type),
            Some(v) => kind_of_v3(go_type, v),
        };
        let Some(kind) = kind else {
            unknown.push(match value {
                None => format!("k3s {command} flag {name:?}: Go type {go_type} ({printed})"),
                Some(v) => format!("k3s {command} flag {name:?}: Go type {go_type} with a Value of Go type {v}"),
            });
            continue;
        };
        facts
            .push(cmd, FlagFact { name, aliases: names.collect(), kind })
            .map_err(|e| BumpError::Msg(format!("k3s {e} ({CMDS}, as NewAgentCommand/NewServerCommand define it)")))?;
    }
    if !unknown.is_empty() {
        let known = match cli {
            Cli::V1 | Cli::V2 => {
                "Bool/BoolT, String/Path/Generic, Int/Int64/Uint/Uint64, Duration, *Slice): add the type to \
                 cliflags::kind_of"
            }
            Cli::V3 => {
                "flags whose Value is a bool, string, Generic's Value, Go integer, time.Duration, []string or \
                 []<integer>): add the value type to cliflags::kind_of_v3"
            }
        };
        return Err(BumpError::Msg(format!(
            "{} flag(s) of a type bump does not map to k3s_model::flags::Kind (urfave/cli {} {known}, or a Kind:\n  \
             {}",
            unknown.len(),
            cli.import_path(),
            unknown.join("\n  ")
        )));
    }
    for cmd in Command::ALL {
        if facts.flags(cmd).is_empty() {
            return Err(BumpError::Msg(format!("the flag reader printed no {} flags", cmd.as_str())));
        }
    }
    Ok(facts)
}

/// How to run the go command (the environment [`crate::golist`] uses).
#[derive(Debug, Clone)]
pub struct GoEnv<'a> {
    /// The go command.
    pub go: &'a Path,
    /// The `file://` module proxy directory.
    pub proxy: &'a Path,
    /// GOMODCACHE.
    pub modcache: &'a Path,
    /// Build tags (the recipe's K3S_GO_TAGS).
    pub tags: &'a [String],
}

/// A directory removed on drop (the program's, inside the checkout).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Reads the flags of the k3s checkout `src` (module `module`, k3s `tag` at `commit`) by running the program.
pub fn read(env: &GoEnv<'_>, src: &Path, module: &str, tag: &str, commit: &str) -> Result<FlagFacts, BumpError> {
    let cli = detect(src)?;
    // Inside the module, so the go command resolves `<module>/pkg/cli/cmds` and urfave/cli from k3s's own go.mod.
    let dir = Scratch(src.join(format!("k3s-bake-cliflags-{}", std::process::id())));
    std::fs::create_dir(&dir.0).map_err(|e| BumpError::step(format!("creating {}", dir.0.display()), e))?;
    let main = dir.0.join("main.go");
    std::fs::write(&main, program(module, cli))
        .map_err(|e| BumpError::step(format!("writing {}", main.display()), e))?;
    let pkg = format!("./{}", dir.0.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let what =
        format!("go run -tags {} (the flags of {module}/{CMDS}, urfave/cli {})", env.tags.join(","), cli.import_path());
    let out = crate::golist::offline_go(env.go, src, env.proxy, env.modcache)
        .args(["run", "-tags", &env.tags.join(","), &pkg])
        // The host runs it (its GOARCH); cgo on, as the recipe builds k3s (cgo-only files of the package count).
        .env_remove("GOARCH")
        .output()
        .map_err(|e| BumpError::step(format!("running {what}"), e))?;
    if !out.status.success() {
        return Err(BumpError::Msg(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    let mut facts = parse_output(cli, &String::from_utf8_lossy(&out.stdout))?;
    let note =
        format!("urfave/cli {}, GOOS=linux on the host's GOARCH, -tags {}", cli.import_path(), env.tags.join(","));
    facts.provenance = provenance(tag, commit, &note);
    Ok(facts)
}

/// The provenance header bump writes for k3s `tag` at `commit`.
pub fn provenance(tag: &str, commit: &str, cli_note: &str) -> Vec<String> {
    vec![
        "The flags `k3s agent` and `k3s server` define, one row per flag in k3s's order: the config validation".into(),
        "(k3s_model::flags, rendered by `k3s-bake gen` into meta-k3s-rs/k3s-model/src/flags_table.rs and".into(),
        "recipes-containers/k3s/k3s-config-facts.inc) reads them from here. Written by `k3s-bake bump`; do not edit."
            .into(),
        format!("Provenance: read by `k3s-bake bump k3s {tag}` from k3s {tag} (commit {commit}), {CMDS}: the Flags"),
        format!("of cmds.NewAgentCommand(nil) and cmds.NewServerCommand(nil), run with the go command ({cli_note})."),
    ]
}

/// Added, removed and changed flags per command, for the summary.
pub fn summary(old: &FlagFacts, new: &FlagFacts) -> String {
    let mut s = String::new();
    for cmd in Command::ALL {
        let find = |f: &FlagFacts, n: &str| f.flags(cmd).iter().find(|x| x.name == n).cloned();
        let added: Vec<&str> =
            new.flags(cmd).iter().filter(|f| find(old, &f.name).is_none()).map(|f| f.name.as_str()).collect();
        let removed: Vec<&str> =
            old.flags(cmd).iter().filter(|f| find(new, &f.name).is_none()).map(|f| f.name.as_str()).collect();
        let mut changed = Vec::new();
        for f in new.flags(cmd) {
            let Some(o) = find(old, &f.name) else { continue };
            if o.kind != f.kind {
                changed.push(format!("{} {} → {}", f.name, o.kind.as_str(), f.kind.as_str()));
            }
            if o.aliases != f.aliases {
                changed.push(format!("{} aliases {:?} → {:?}", f.name, o.aliases, f.aliases));
            }
        }
        let _ = writeln!(
            s,
            "  {}: {} flags; added {added:?}; removed {removed:?}; changed {changed:?}",
            cmd.as_str(),
            new.flags(cmd).len()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_tell_v1_from_v2() {
        let v2 = "package cmds\n\nimport (\n\t\"os\"\n\n\t\"github.com/urfave/cli/v2\" // the CLI\n)\n\nvar x = 1\n";
        assert_eq!(go_imports(v2), ["os", "github.com/urfave/cli/v2"]);
        assert_eq!(
            go_imports("package a\nimport cli \"github.com/urfave/cli\"\nfunc f() {}\nimport \"x\"\n"),
            ["github.com/urfave/cli"]
        );
    }

    #[test]
    fn detect_wants_exactly_one_urfave_cli_major_version() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join(CMDS);
        std::fs::create_dir_all(&d).unwrap();
        let w = |n: &str, body: &str| std::fs::write(d.join(n), body).unwrap();
        assert!(detect(t.path()).unwrap_err().to_string().contains("no file imports"));
        w("agent.go", "package cmds\n\nimport (\n\tcli \"github.com/urfave/cli/v2\"\n)\n");
        w("agent_test.go", "package cmds\n\nimport \"github.com/urfave/cli\"\n");
        assert_eq!(detect(t.path()).unwrap(), Cli::V2, "test files do not count");
        w("server.go", "package cmds\n\nimport \"github.com/urfave/cli\"\n");
        let e = detect(t.path()).unwrap_err().to_string();
        assert!(e.contains("v1 in [\"server.go\"], v2 in [\"agent.go\"]"), "{e}");
        w("server.go", "package cmds\n\nimport \"github.com/urfave/cli/v3\"\n");
        let e = detect(t.path()).unwrap_err().to_string();
        assert!(e.contains("v2 in [\"agent.go\"], v3 in [\"server.go\"]"), "v2 and v3 mixed: {e}");
        w("agent.go", "package cmds\n\nimport (\n\t\"context\"\n\n\t\"github.com/urfave/cli/v3\"\n)\n");
        assert_eq!(detect(t.path()).unwrap(), Cli::V3);
        w("server.go", "package cmds\n\nimport \"github.com/urfave/cli/v4\"\n");
        let e = detect(t.path()).unwrap_err().to_string();
        assert!(e.contains("(not supported) [\"server.go (github.com/urfave/cli/v4)\"]"), "{e}");
        // v1's own packages (altsrc) are v1; another module sharing the prefix is not urfave/cli at all.
        w("agent.go", "package cmds\n\nimport (\n\t\"github.com/urfave/cli\"\n\t\"github.com/urfave/cli/altsrc\"\n)\n");
        w("server.go", "package cmds\n\nimport \"github.com/urfave/cli-extras\"\n");
        assert_eq!(detect(t.path()).unwrap(), Cli::V1);
        w("server.go", "package cmds\n\nimport \"github.com/urfave/cli/v2/altsrc\"\n");
        assert!(detect(t.path()).unwrap_err().to_string().contains("v2 in [\"server.go\"]"), "a v2 package is v2");
    }

    /// urfave/cli v3's flag types are aliases of `FlagBase[T, C, VC]`: the kind comes from `T` (the `Value`
    /// field's type the program prints), never from the type's name.
    #[test]
    fn v3_kinds_come_from_the_value_type_of_a_urfave_cli_v3_flag() {
        let base = |t: &str| format!("*github.com/urfave/cli/v3.FlagBase[{t},github.com/urfave/cli/v3.NoConfig,x]");
        let k = |t: &str| kind_of_v3(&base(t), t);
        assert_eq!(k("string"), Some(Kind::String));
        assert_eq!(k("bool"), Some(Kind::Bool));
        assert_eq!(
            (k("int"), k("int64"), k("uint"), k("uint64")),
            (Some(Kind::Int), Some(Kind::Int), Some(Kind::Int), Some(Kind::Int))
        );
        assert_eq!(k("time.Duration"), Some(Kind::Duration));
        assert_eq!(
            (k("[]string"), k("[]int64"), k("[]uint")),
            (Some(Kind::Slice), Some(Kind::Slice), Some(Kind::Slice))
        );
        assert_eq!(k("github.com/urfave/cli/v3.Value"), Some(Kind::String), "GenericFlag, as in v1/v2");
        for refused in ["float64", "[]float64", "map[string]string", "time.Time", "(no Value field)", "[]bool"] {
            assert_eq!(k(refused), None, "{refused}");
        }
        assert_eq!(kind_of_v3("*github.com/urfave/cli/v3.BoolWithInverseFlag", "bool"), Some(Kind::Bool));
        assert_eq!(kind_of_v3("*github.com/k3s-io/k3s/pkg/cli/cmds.StringFlag", "string"), None, "k3s's own type");
        assert_eq!(kind_of_v3("*github.com/urfave/cli/v2.StringFlag", "string"), None, "v2's type under v3");
        assert_eq!(kind_of(Cli::V3, "*github.com/urfave/cli/v3.StringFlag"), None, "v3 is never told by name");
    }

    #[test]
    fn v3_output_becomes_facts_and_an_unknown_value_type_names_the_flag() {
        let t = "*github.com/urfave/cli/v3.FlagBase[[]string,github.com/urfave/cli/v3.StringConfig,x]";
        let out = format!(
            "k3s-bake-flag\tagent\tnode-label,l\t{t}\t*cli.FlagBase[…]\t[]string\n\
                           k3s-bake-flag\tserver\tetcd-s3-timeout\t{t}\t*cli.FlagBase[…]\ttime.Duration\n"
        );
        let f = parse_output(Cli::V3, &out).unwrap();
        assert_eq!(f.agent[0], FlagFact { name: "node-label".into(), aliases: vec!["l".into()], kind: Kind::Slice });
        assert_eq!(f.server[0].kind, Kind::Duration, "the Value's type, not the type's name (a []string here)");
        let bad = format!("{out}k3s-bake-flag\tserver\tratio\t{t}\t*cli.FlagBase[…]\tfloat64\n");
        let e = parse_output(Cli::V3, &bad).unwrap_err().to_string();
        assert!(e.contains(&format!("k3s server flag \"ratio\": Go type {t} with a Value of Go type float64")), "{e}");
        assert!(e.contains("urfave/cli github.com/urfave/cli/v3 flags whose Value is"), "{e}");
        let short = "k3s-bake-flag\tagent\ttoken\t*github.com/urfave/cli/v3.X\t*cli.X\n";
        assert!(parse_output(Cli::V3, short).unwrap_err().to_string().contains("expected 6 tab-separated fields"));
    }

    #[test]
    fn types_map_to_kinds_of_the_detected_cli_only() {
        assert_eq!(kind_of(Cli::V2, "*github.com/urfave/cli/v2.StringSliceFlag"), Some(Kind::Slice));
        assert_eq!(kind_of(Cli::V2, "*github.com/urfave/cli/v2.PathFlag"), Some(Kind::String));
        assert_eq!(kind_of(Cli::V1, "github.com/urfave/cli.BoolTFlag"), Some(Kind::Bool));
        assert_eq!(kind_of(Cli::V1, "*github.com/urfave/cli.Uint64Flag"), Some(Kind::Int));
        assert_eq!(kind_of(Cli::V1, "*github.com/urfave/cli/v2.StringFlag"), None, "v2's type under v1");
        assert_eq!(kind_of(Cli::V2, "*github.com/k3s-io/k3s/pkg/cli/cmds.StringFlag"), None, "k3s's own type");
        assert_eq!(kind_of(Cli::V2, "*github.com/urfave/cli/v2.Float64Flag"), None);
    }

    #[test]
    fn output_becomes_facts_and_an_unknown_type_names_the_flag() {
        let out = "noise from an init\nk3s-bake-flag\tagent\ttoken,t\t*github.com/urfave/cli/v2.StringFlag\t*cli.StringFlag\n\
                   k3s-bake-flag\tserver\tdisable\t*github.com/urfave/cli/v2.StringSliceFlag\t*cli.StringSliceFlag\n";
        let f = parse_output(Cli::V2, out).unwrap();
        assert_eq!(f.agent[0], FlagFact { name: "token".into(), aliases: vec!["t".into()], kind: Kind::String });
        assert_eq!(f.server[0].kind, Kind::Slice);
        let bad =
            format!("{out}k3s-bake-flag\tserver\tratio\t*github.com/urfave/cli/v2.Float64Flag\t*cli.Float64Flag\n");
        let e = parse_output(Cli::V2, &bad).unwrap_err().to_string();
        assert!(e.contains("k3s server flag \"ratio\": Go type *github.com/urfave/cli/v2.Float64Flag"), "{e}");
        let dup = format!("{out}k3s-bake-flag\tagent\ttoken\t*github.com/urfave/cli/v2.BoolFlag\t*cli.BoolFlag\n");
        assert!(parse_output(Cli::V2, &dup).unwrap_err().to_string().contains("\"token\" is already defined"));
    }

    #[test]
    fn summary_lists_added_removed_and_changed_per_command() {
        let f = |n: &str, k: Kind| FlagFact { name: n.into(), aliases: vec![], kind: k };
        let old = FlagFacts {
            provenance: vec![],
            agent: vec![f("a", Kind::Bool), f("gone", Kind::Bool)],
            server: vec![f("s", Kind::Int)],
        };
        let new = FlagFacts {
            provenance: vec![],
            agent: vec![f("a", Kind::String), f("new", Kind::Bool)],
            server: vec![f("s", Kind::Int)],
        };
        let s = summary(&old, &new);
        assert!(
            s.contains("  agent: 2 flags; added [\"new\"]; removed [\"gone\"]; changed [\"a bool → string\"]"),
            "{s}"
        );
        assert!(s.contains("  server: 1 flags; added []; removed []; changed []"), "{s}");
    }
}
