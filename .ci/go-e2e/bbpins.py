#!/usr/bin/env python3
"""The other pins' branch= and SRCREV through BitBake's real parser and git fetcher: the runc, CNI plugins and
flannel CNI plugin recipes of LAYER (with the conf/include/k3s-spec.inc a bump rendered) parsed by BitBake, and each
git:// SRC_URI entry fetched with its remote swapped for a local repository (URL=PATH; protocol=file, every other
parameter — branch= among them — and the recipe's SRCREV kept). After cloning, BitBake's git fetcher refuses a SRCREV
the entry's branch does not contain ("Unable to find revision … in branch …"): the proof that bump named a branch
holding each tag's commit.

usage: bbpins.py LAYER WORK URL=PATH... [--expect-failure]"""
import os
import sys

layer, work = sys.argv[1:3]
expect_failure = "--expect-failure" in sys.argv[3:]
repos = dict(a.split("=", 1) for a in sys.argv[3:] if "=" in a)
sys.path.insert(0, os.path.join(os.path.abspath(layer), ".ci", "systemd"))
import bbinstall  # noqa: E402
import bb.fetch2  # noqa: E402
import bblog  # noqa: E402  (.ci/go-e2e/bblog.py, next to this script)


# The fetcher says why a source failed at debug level before its generic "Unable to fetch URL from any source".
log = bblog.collect(level=1)
recipes = ["recipes-containers/runc/runc_git.bb", "recipes-networking/cni-plugins/cni-plugins_git.bb",
           "recipes-networking/flannel-cni-plugin/flannel-cni-plugin_git.bb"]
failed = []
for i, rel in enumerate(recipes):
    # OE-Core's classes are empty stand-ins here (bbinstall's list, plus pkgconfig, which runc inherits): only the
    # recipes' own SRC_URI/SRCREV and the spec include matter to the fetcher.
    classes = os.path.join(work, str(i), "bbpath", "classes")
    os.makedirs(classes, exist_ok=True)
    open(os.path.join(classes, "pkgconfig.bbclass"), "w").close()
    d = bbinstall.datastore(os.path.join(layer, rel), os.path.join(work, str(i)))
    d.setVar("PERSISTENT_DIR", os.path.join(work, "persistent"))
    urls = []
    for u in d.getVar("SRC_URI").split():
        if not u.startswith("git://"):
            continue
        remote, _, params = u.partition(";")
        if remote not in repos:
            sys.exit("bbpins: %s: no local repository given for %s" % (rel, remote))
        kept = [p for p in params.split(";") if p and not p.startswith("protocol=")]
        urls.append(";".join(["git://" + repos[remote], "protocol=file"] + kept))
    try:
        f = bb.fetch2.Fetch(urls, d)
        f.download()
    except bb.fetch2.BBFetchException as e:
        failed.append((rel, str(e).splitlines()[0]))
        continue
    for u in urls:
        ud = f.ud[u]
        print("bbpins: %s: %s branch=%s SRCREV %s fetched" % (os.path.basename(rel), ud.url.split(";")[0],
                                                              ud.branch, ud.revision))
if expect_failure:
    why = [m for m in log.messages if "Unable to find revision" in m and "in branch" in m]
    if not failed or not why:
        sys.exit("bbpins: expected BitBake's git fetcher to refuse a branch without its SRCREV: %s %s" % (failed, why))
    print("bbpins: refused as expected: %s" % why[0].splitlines()[0])
    sys.exit(0)
if failed:
    sys.exit("bbpins: %s" % failed)
