#!/usr/bin/env python3
"""Traefik's charts through BitBake's real parser and wget fetcher: the k3s recipe of LAYER (k3s_git.bb with the
rendered k3s-charts.inc it requires) parsed by BitBake (.ci/systemd/bbinstall.py of that layer), with
K3S_DEPLOY_TRAEFIK = "0" (no chart in SRC_URI) and "1"; then every http(s) SRC_URI entry is downloaded through a
PREMIRRORS entry pointing at MIRROR (a chart server on 127.0.0.1; BB_ALLOWED_NETWORKS keeps the fetcher off the real
chart host), each archive checked against the recipe's SRC_URI[<name>.sha256sum] flag, and unpacked; the unpacked
chart names must be exactly those MANIFEST (manifests/traefik.yaml of the fake k3s at the tag) references, which is
what the recipe's do_compile checks.

usage: bbcharts.py LAYER MIRROR_URL WORK MANIFEST [--expect-checksum-failure]"""
import os
import re
import sys

layer, mirror, work, manifest = sys.argv[1:5]
expect_failure = "--expect-checksum-failure" in sys.argv[5:]
sys.path.insert(0, os.path.join(os.path.abspath(layer), ".ci", "systemd"))
import bbinstall  # noqa: E402  (BitBake's parser over the layer's recipes; bb from PyPI bitbake-setup)
import bb.fetch2  # noqa: E402
import bblog  # noqa: E402  (.ci/go-e2e/bblog.py, next to this script)


log = bblog.collect()
recipe = os.path.join(layer, "recipes-containers/k3s/k3s_git.bb")


def charts(d):
    return [u for u in d.getVar("SRC_URI").split() if re.match(r"https?://", u)]


off = bbinstall.datastore(recipe, os.path.join(work, "off"), {"K3S_DEPLOY_TRAEFIK": "0"})
if charts(off):
    sys.exit("bbcharts: K3S_DEPLOY_TRAEFIK = 0 still fetches %s" % charts(off))
d = bbinstall.datastore(recipe, os.path.join(work, "on"), {
    "K3S_DEPLOY_TRAEFIK": "1",
    "BB_NO_NETWORK": "0",
    "BB_ALLOWED_NETWORKS": "127.0.0.1",
})
base = d.getVar("K3S_TRAEFIK_CHART_BASE")
d.setVar("PREMIRRORS", "%s/.* %s/" % (base, mirror.rstrip("/")))
d.setVar("PERSISTENT_DIR", os.path.join(work, "persistent"))
urls = charts(d)
if not urls:
    sys.exit("bbcharts: K3S_DEPLOY_TRAEFIK = 1 but no chart in SRC_URI")
for u in urls:
    name = dict(p.split("=", 1) for p in u.split(";")[1:]).get("name")
    sha = d.getVarFlag("SRC_URI", "%s.sha256sum" % name) if name else None
    if not sha:
        sys.exit("bbcharts: %s has no name= with a SRC_URI[<name>.sha256sum] flag" % u)
    print("bbcharts: %s  sha256 %s" % (u.split(";")[0], sha))
try:
    f = bb.fetch2.Fetch(urls, d)
    f.download()
except bb.fetch2.BBFetchException as e:
    if expect_failure:
        why = [m for m in log.messages if "checksum mismatch" in m.lower()]
        if not why:
            sys.exit("bbcharts: failed, but not on a checksum: %s" % e)
        print("bbcharts: refused as expected: %s" % why[0].splitlines()[0])
        sys.exit(0)
    raise
if expect_failure:
    sys.exit("bbcharts: fetching succeeded although the served chart differs from the rendered sha256")
unpack = d.getVar("UNPACKDIR")
os.makedirs(unpack, exist_ok=True)
f.unpack(unpack)
have = sorted(os.listdir(os.path.join(unpack, "charts")))
with open(manifest, encoding="utf-8") as fh:
    want = sorted(set(re.findall(r"static/charts/([^\"/ ]*\.tgz)", fh.read())))
if have != want:
    sys.exit("bbcharts: unpacked %s, manifests/traefik.yaml references %s" % (have, want))
print("bbcharts: fetched %d charts with BitBake's wget fetcher, sha256 verified, unpacked exactly %s"
      % (len(urls), " ".join(have)))
