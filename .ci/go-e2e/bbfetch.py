#!/usr/bin/env python3
"""Drives BitBake's real fetchers (bb.fetch2 from PyPI bitbake-setup) over every SRC_URI entry of a rendered
*-go-mods.inc: download + checksum verification from the local HTTPS proxy / local git, then unpack into a module
cache, then (unless --no-rezip) the layer's gomodgit_rezip step exactly as classes/gomodgit_rezip.bbclass runs it.

With --licenses LIC_INC (a rendered *-licenses.inc), the layer's go_mod_licenses step then extracts every listed
licence file from the unpacked module zips, as classes/go_mod_licenses.bbclass runs it after do_unpack, and each
file's md5 is checked against LIC_FILES_CHKSUM (what do_populate_lic verifies) — before any go command has run.

usage: bbfetch.py INC PROXY_HOSTPORT DL_DIR UNPACK_ROOT ALLOWED_HOSTS [--no-rezip] [--expect-failure]
                  [--licenses LIC_INC]"""
import os
import sys

import re

import bb
import bb.data
import bb.fetch2
import bblog  # noqa: E402  (.ci/go-e2e/bblog.py, next to this script)

inc, proxy, dl_dir, root, allowed = sys.argv[1:6]
flags = sys.argv[6:]
lic_inc = flags[flags.index("--licenses") + 1] if "--licenses" in flags else None
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../lib"))
import k3s_gomod  # noqa: E402  (the layer's lib, as addpylib puts it on the path)

log = bblog.collect()

d = bb.data.init()
d.setVar("BBPATH", os.path.dirname(os.path.abspath(inc)))
d.setVar("DL_DIR", dl_dir)
d.setVar("PERSISTENT_DIR", os.path.join(dl_dir, "persist"))
d.setVar("GO_MOD_PROXY", proxy)
d.setVar("GO_MOD_CACHE_DIR", "pkg/mod")
d.setVar("BB_CHECK_SSL_CERTS", "0")
d.setVar("BB_ALLOWED_NETWORKS", allowed)
d.setVar("SRC_URI", "")
d.setVar("LICENSE", "MIT")
d.setVar("LIC_FILES_CHKSUM", "")

# BitBake's parser (bb.parse) needs the hashserv package, which PyPI's bitbake-setup lacks: read the include the
# way BitBake does for the forms it holds, and reject any other statement rather than skip it.
text = open(inc).read().replace("\\\n", " ")
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#") or line == "inherit gomodgit_rezip":  # the class runs after unpack, below
        continue
    if line == 'SRCREV_FORMAT ?= "default"':
        d.setVar("SRCREV_FORMAT", "default")
        continue
    m = re.fullmatch(r'SRC_URI \+= "(.*)"', line)
    if not m:
        sys.exit(f"bbfetch: unexpected statement in {inc}: {line[:80]}")
    d.appendVar("SRC_URI", " " + m.group(1))
urls = d.getVar("SRC_URI").split()
assert urls, "no SRC_URI entries parsed"
try:
    f = bb.fetch2.Fetch(urls, d)
    f.download()
    f.unpack(root)
except bb.fetch2.BBFetchException as e:
    if "--expect-failure" in flags:
        why = [m for m in log.messages if "checksum mismatch" in m.lower()]
        if not why:
            sys.exit(f"bbfetch: failed, but not on a checksum: {e}")
        print(f"bbfetch: refused as expected: {why[0].splitlines()[0]}")
        sys.exit(0)
    raise
if "--expect-failure" in flags:
    sys.exit("bbfetch: fetching succeeded although a failure was expected")
print(f"bbfetch: fetched and verified {len(urls)} SRC_URI entries")
if "--no-rezip" not in flags:
    for url in f.urls:
        ud = f.ud[url]
        if ud.type == "gomodgit":
            p = k3s_gomod.rezip_unpacked(root, "pkg/mod", ud.parm["module"], ud.parm["version"], ud.parm["srcrev"],
                                        ud.parm.get("subpath", ""), ud.parm["subdir"])
            print(f"bbfetch: rezipped {os.path.relpath(p, root)}")
if lic_inc:
    import hashlib

    text = open(lic_inc).read().replace("\\\n", " ")
    m = re.search(r'LIC_FILES_CHKSUM \+= "([^"]*)"', text)
    if not m:
        sys.exit(f"bbfetch: no LIC_FILES_CHKSUM in {lic_inc}")
    lic = m.group(1)
    n = k3s_gomod.extract_licenses(root, "pkg/mod", lic)
    for tok in lic.split():
        path, _, params = tok[len("file://"):].partition(";")
        want = dict(p.split("=", 1) for p in params.split(";") if "=" in p)["md5"]
        with open(os.path.join(root, path), "rb") as fh:
            got = hashlib.md5(fh.read()).hexdigest()
        if got != want:
            sys.exit(f"bbfetch: {path}: md5 {got}, LIC_FILES_CHKSUM says {want}")
    print(f"bbfetch: {n} licence files extracted from the module zips, every LIC_FILES_CHKSUM md5 matches")
