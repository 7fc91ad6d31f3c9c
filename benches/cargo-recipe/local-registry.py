#!/usr/bin/env python3
"""Builds a cargo local registry (index + .crate files) for one Cargo.lock, offline, from what cargo already has:
the .crate archives in the registry cache and the index entries in the sparse-index cache. cargo-bitbake 0.3.16
(its built-in cargo predates sparse registries) resolves a workspace only against such a registry here: crates.io's
git index is on github.com, which this machine cannot reach.

Usage: local-registry.py CARGO_LOCK OUT_DIR     (CARGO_HOME as cargo uses it)
"""

import glob
import os
import shutil
import sys
import tomllib


def index_path(name):
    n = name.lower()
    if len(n) <= 2:
        return os.path.join(str(len(n)), n)
    if len(n) == 3:
        return os.path.join("3", n[0], n)
    return os.path.join(n[:2], n[2:4], n)


def cached_entries(home, name):
    """version -> JSON line, from cargo's index cache (version byte, u32 index format, header, then NUL-separated
    version/JSON pairs)."""
    for path in glob.glob(os.path.join(home, "registry", "index", "*", ".cache", index_path(name))):
        with open(path, "rb") as f:
            data = f.read()
        parts = data[5:].split(b"\0")[1:]
        return {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 1, 2)}
    sys.exit(f"local-registry: no index cache entry for {name}; run `cargo fetch --locked` first")


def main():
    lock, out = sys.argv[1], sys.argv[2]
    home = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
    with open(lock, "rb") as f:
        packages = [p for p in tomllib.load(f)["package"] if p.get("source", "").startswith(("registry+", "sparse+"))]
    os.makedirs(out, exist_ok=True)
    lines = {}
    for p in packages:
        entries = cached_entries(home, p["name"])
        if p["version"] not in entries:
            sys.exit(f"local-registry: {p['name']} {p['version']} is not in the index cache")
        lines.setdefault(p["name"], []).append(entries[p["version"]])
        crate = f"{p['name']}-{p['version']}.crate"
        hits = glob.glob(os.path.join(home, "registry", "cache", "*", crate))
        if not hits:
            sys.exit(f"local-registry: {crate} is not in the registry cache; run `cargo fetch --locked` first")
        shutil.copy(hits[0], os.path.join(out, crate))
    for name, ls in lines.items():
        path = os.path.join(out, "index", index_path(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(ls) + "\n")
    print(f"local-registry: {len(packages)} packages in {out}")


if __name__ == "__main__":
    main()
