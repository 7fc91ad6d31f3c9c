#!/usr/bin/env python3
"""Fetch, verify, lay out and build a recipe rendered by `k3s-bake cargo`, the way OE-Core wrynose would.

- BitBake's real parser (`bb.parse`) reads the .bb and its includes; BitBake's real fetchers (`bb.fetch2`: local,
  crate, git) fetch every SRC_URI entry, crates through a file:// PREMIRROR (no network), and verify checksums.
- LIC_FILES_CHKSUM is checked like OE's populate_lic QA (md5 of the file, or of beginline..endline).
- NO_GENERIC_LICENSE is checked the way license.bbclass's find_license uses it (a stand-in: the class itself is not
  available here): every LICENSE name OE-Core has no text for needs it, its value must be a LIC_FILES_CHKSUM path
  and exist under S; a name OE-Core has a text for must not have it.
- `--linked-out`: the build runs for the host triple explicitly, so target units (linked) and host units
  (proc-macros, build scripts and what they use) land apart; the crate directories of the target units are written
  out, for comparison with the crates the licenses include names.
- The unpacked tree is laid out as `cargo_common_do_configure` + `cargo_common_do_patch_paths` do (vendored
  cargo_home/bitbake source, [patch] sections for git dependencies, git sources dropped from Cargo.lock), then
  `cargo build --frozen --offline` runs with the recipe's CARGO_SRC_DIR / CARGO_LOCK_PATH / CARGO_BUILD_FLAGS.

What is not real here, and why: OE-Core's classes are not available in CI (only PyPI/crates.io/apt are reachable),
so `inherit` finds empty class files and this script does what the cargo classes' do_configure does; the PyPI
`bitbake-setup` package ships `bb` without the `hashserv` package, which only hash equivalence uses, so an empty
module stands in for it so that `bb.parse` imports.
"""

import argparse
import hashlib
import logging
import os
import re
import subprocess
import sys
import types

for _m in ("hashserv", "hashserv.client"):
    sys.modules.setdefault(_m, types.ModuleType(_m))
sys.modules["hashserv"].client = sys.modules["hashserv.client"]

import bb  # noqa: E402
import bb.data  # noqa: E402
import bb.fetch2  # noqa: E402
import bb.parse  # noqa: E402
import bb.utils  # noqa: E402


def fail(msg, code=1):
    print(f"bbfetch: {msg}", file=sys.stderr)
    sys.exit(code)


def datastore(recipe, work, mirror):
    bbpath = os.path.join(work, "bbpath")
    os.makedirs(os.path.join(bbpath, "classes"), exist_ok=True)
    # Empty stand-ins for OE-Core's classes (see the module docstring); do_configure is emulated below.
    for cls in ("cargo", "cargo_common", "cargo-update-recipe-crates", "systemd"):
        open(os.path.join(bbpath, "classes", cls + ".bbclass"), "w").close()
    # A recipe inside a layer (this repository's node tools) may inherit that layer's own classes: those are real.
    layer = os.path.dirname(os.path.abspath(recipe))
    while layer != "/" and not os.path.isfile(os.path.join(layer, "conf", "layer.conf")):
        layer = os.path.dirname(layer)
    if layer != "/":
        bbpath += ":" + layer
    # The layer's own distro feature, read where it is defined (conf/layer.conf K3S_DISTRO_FEATURE).
    feature = ""
    if layer != "/":
        with open(os.path.join(layer, "conf", "layer.conf"), encoding="utf-8") as f:
            m = re.search(r'^K3S_DISTRO_FEATURE\s*=\s*"([^"]*)"', f.read(), re.M)
        feature = m.group(1) if m else ""
    base = os.path.basename(recipe)[: -len(".bb")]
    bpn, pv = base.rsplit("_", 1)
    d = bb.data.init()
    for k, v in {
        "BBPATH": bbpath,
        "__bbclasstype": "recipe",
        "FILE": os.path.abspath(recipe),
        "THISDIR": os.path.dirname(os.path.abspath(recipe)),
        "PN": bpn,
        "BPN": bpn,
        "PV": pv,
        "BP": "${BPN}-${PV}",
        "WORKDIR": work,
        "UNPACKDIR": os.path.join(work, "sources"),
        "S": "${UNPACKDIR}/${BP}",
        "BB_GIT_DEFAULT_DESTSUFFIX": "${BP}",
        "DL_DIR": os.path.join(work, "downloads"),
        "PERSISTENT_DIR": os.path.join(work, "persistent"),
        "FILESPATH": "",
        "BB_NO_NETWORK": "1",
        # What `require conf/distro/include/k3s.inc` gives a real build; the layer's recipes check for it.
        "K3S_DISTRO_FEATURE": feature,
        "DISTRO_FEATURES": "systemd usrmerge seccomp " + feature,
        "BB_STRICT_CHECKSUM": "1",
        "PREMIRRORS": f"https://static.crates.io/crates/.* file://{mirror}/",
        "SRCREV": "INVALID",
        "MIRRORS": "",
        "CARGO_SRC_DIR": "",
        "CARGO_HOME": "${UNPACKDIR}/cargo_home",
        "CARGO_VENDORING_DIRECTORY": "${CARGO_HOME}/bitbake",
        "CARGO_BUILD_FLAGS": "",
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
    }.items():
        d.setVar(k, v)
    bb.parse.handle(os.path.abspath(recipe), d, True)
    # cargo_common.bbclass defaults (weak there; the recipe's values win).
    if d.getVar("CARGO_MANIFEST_PATH") is None:
        d.setVar("CARGO_MANIFEST_PATH", "${S}/${CARGO_SRC_DIR}/Cargo.toml")
    if d.getVar("CARGO_LOCK_PATH") is None:
        d.setVar("CARGO_LOCK_PATH", os.path.join(os.path.dirname(d.getVar("CARGO_MANIFEST_PATH")), "Cargo.lock"))
    return d


def check_licenses(d):
    s = d.getVar("S")
    n = 0
    for entry in (d.getVar("LIC_FILES_CHKSUM") or "").split():
        url, _, params = entry.partition(";")
        parm = dict(p.split("=", 1) for p in params.split(";") if p)
        path = os.path.normpath(os.path.join(s, url[len("file://"):]))
        with open(path, "rb") as f:
            lines = f.readlines()
        if "beginline" in parm:
            lines = lines[int(parm["beginline"]) - 1 : int(parm["endline"])]
        md5 = hashlib.md5(b"".join(lines)).hexdigest()
        if md5 != parm.get("md5"):
            fail(f"LIC_FILES_CHKSUM {entry}: md5 of {path} is {md5}")
        n += 1
    if n == 0:
        fail("LIC_FILES_CHKSUM is empty")
    return n


COMMON_LICENSES = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "oe-license", "facts", "common-licenses.txt"
)


def check_no_generic(d):
    """Stand-in for license.bbclass's find_license (OE-Core wrynose) over NO_GENERIC_LICENSE."""
    with open(COMMON_LICENSES) as f:
        common = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    paths = set()
    for entry in (d.getVar("LIC_FILES_CHKSUM") or "").split():
        _, _, path, _, _, _ = bb.fetch2.decodeurl(entry)
        paths.add(path)
    names = set(re.split(r"[\s&|()]+", d.getVar("LICENSE") or "")) - {""}
    flags = d.getVarFlags("NO_GENERIC_LICENSE") or {}
    n = 0
    for name in sorted(names):
        base = name.replace("+", "").replace("*", "")
        value = flags.get(base)
        if base in common:
            if value:
                fail(f"NO_GENERIC_LICENSE[{base}] is set for a license OE-Core ships (license-no-generic)")
            continue
        if not value:
            fail(f"{base}: no generic license text and no NO_GENERIC_LICENSE (license-exists)")
        if value not in paths:
            fail(f"NO_GENERIC_LICENSE[{base}] = {value!r} is not a LIC_FILES_CHKSUM path")
        if not os.path.isfile(os.path.join(d.getVar("S"), value)):
            fail(f"NO_GENERIC_LICENSE[{base}] = {value!r} does not exist under S")
        n += 1
    return n


def configure(d, fetcher):
    """What cargo_common_do_configure and cargo_common_do_patch_paths write (OE-Core wrynose)."""
    home = d.getVar("CARGO_HOME")
    os.makedirs(os.path.join(home, "bitbake"), exist_ok=True)
    cfg = [
        "[source.bitbake]",
        f'directory = "{d.getVar("CARGO_VENDORING_DIRECTORY")}"',
        "",
        "[source.crates-io]",
        'replace-with = "bitbake"',
        'local-registry = "/nonexistent"',
    ]
    patches = {}
    for url in fetcher.urls:
        ud = fetcher.ud[url]
        if ud.type in ("git", "gitsm"):
            name, dest = ud.parm.get("name"), ud.parm.get("destsuffix")
            if name is not None and dest is not None:
                repo = f"{ud.proto}://{ud.user + '@' if ud.user else ''}{ud.host}{ud.path}"
                path = os.path.join(d.getVar("UNPACKDIR"), dest)
                patches.setdefault(repo, []).append(f'{name} = {{ path = "{path}" }}')
    for repo, lines in patches.items():
        cfg += ["", f'[patch."{repo}"]'] + lines
    with open(os.path.join(home, "config.toml"), "w") as f:
        f.write("\n".join(cfg) + "\n")
    if patches:
        lock = d.getVar("CARGO_LOCK_PATH")
        with open(lock) as f:
            kept = [line for line in f if not line.startswith('source = "git')]
        with open(lock, "w") as f:
            f.writelines(kept)
    return len(patches)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recipe")
    ap.add_argument("--mirror", required=True, help="flat directory of NAME-VERSION.crate files")
    ap.add_argument("--work", required=True)
    ap.add_argument("--fetch-only", action="store_true")
    ap.add_argument("--run", nargs="*", default=[], help="binaries to run after the build (NAME)")
    ap.add_argument("--expect", default=None, help="text the first binary must print")
    ap.add_argument("--linked-out", default=None, help="write the crate directories of the linked target units here")
    a = ap.parse_args()
    # BitBake's fetcher reports mirror checksum failures as warnings before it falls back to upstream.
    logging.basicConfig(level=logging.WARNING, format="bitbake: %(levelname)s: %(message)s")
    logging.getLogger("BitBake").setLevel(logging.WARNING)

    d = datastore(a.recipe, a.work, a.mirror)
    src_uri = (d.getVar("SRC_URI") or "").split()
    kinds = {}
    for u in src_uri:
        kinds[u.split(":", 1)[0]] = kinds.get(u.split(":", 1)[0], 0) + 1
    print(f"bbfetch: {a.recipe}: SRC_URI {kinds}")
    try:
        fetcher = bb.fetch2.Fetch(src_uri, d)
        fetcher.download()
        unpack = d.getVar("UNPACKDIR")
        os.makedirs(unpack, exist_ok=True)
        fetcher.unpack(unpack)
    except bb.fetch2.BBFetchException as e:
        fail(f"fetch failed: {e}", code=3)
    print(f"bbfetch: fetched, verified and unpacked {len(src_uri)} entries")
    if a.fetch_only:
        return
    print(f"bbfetch: {check_licenses(d)} LIC_FILES_CHKSUM entries match")
    print(f"bbfetch: {check_no_generic(d)} NO_GENERIC_LICENSE entries as license.bbclass wants them (stand-in check)")
    print(f"bbfetch: {configure(d, fetcher)} [patch] section(s) for git dependencies")

    target = os.path.join(a.work, "target")
    cmd = ["cargo", "build", "--frozen", "--offline", f"--manifest-path={d.getVar('CARGO_MANIFEST_PATH')}",
           f"--target-dir={target}"] + d.getVar("CARGO_BUILD_FLAGS").split()
    env = dict(os.environ, CARGO_HOME=d.getVar("CARGO_HOME"))
    host = re.search(r"^host: (\S+)$", subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout, re.M)[1]
    bindir = os.path.join(target, "debug")
    if a.linked_out:
        cmd += ["--target", host, "--message-format=json-render-diagnostics"]
        bindir = os.path.join(target, host, "debug")
    print("bbfetch: " + " ".join(cmd))
    r = subprocess.run(cmd, env=env, cwd=d.getVar("S"), stdout=subprocess.PIPE if a.linked_out else None, text=True)
    if r.returncode != 0:
        fail("cargo build failed")
    if a.linked_out:
        import json

        linked = set()
        for line in r.stdout.splitlines():
            msg = json.loads(line)
            if msg.get("reason") != "compiler-artifact":
                continue
            if all(f.startswith(os.path.join(target, host) + os.sep) for f in msg["filenames"]):
                linked.add(os.path.relpath(os.path.dirname(msg["manifest_path"]), d.getVar("UNPACKDIR")))
        with open(a.linked_out, "w") as f:
            f.write("".join(sorted(x + "\n" for x in linked)))
        print(f"bbfetch: {len(linked)} packages built as target units, written to {a.linked_out}")
    for i, name in enumerate(a.run):
        out = subprocess.run([os.path.join(bindir, name)], capture_output=True, text=True, check=True).stdout
        print(f"bbfetch: {name} printed: {out.strip()}")
        if i == 0 and a.expect is not None and a.expect not in out:
            fail(f"{name} did not print {a.expect!r}")


if __name__ == "__main__":
    main()
