#!/usr/bin/env python3
"""The fragment applied to a kernel recipe other than linux-yocto, as README.md documents it, through BitBake's real
parser (`bb.parse`) and local fetcher (`bb.fetch2`, unpack).

A stand-in BSP kernel recipe (`linux-bsp_6.6.bb`: OE-Core's classes are not reachable in CI, so `inherit
kernel-yocto` finds an empty class, named a stand-in here) with a board KERNEL_FEATURES entry, and a user layer's
bbappend holding exactly the README's line. Checked, with the `k3s` distro feature: KERNEL_FEATURES ends with the
layer's feature (merged after the board's), SRC_URI carries the kmeta directory, it unpacks, and kernel-yocto's
feature lookup (the loop of do_kernel_metadata over the kmeta directories) finds features/k3s-rs/k3s.scc and the
.cfg it names. Without the feature nothing of the layer appears. Exit 1 with the reason on any failure.
"""

import os
import re
import sys
import tempfile
import types

for _m in ("hashserv", "hashserv.client"):
    sys.modules.setdefault(_m, types.ModuleType(_m))
sys.modules["hashserv"].client = sys.modules["hashserv.client"]

import bb  # noqa: E402
import bb.data  # noqa: E402
import bb.fetch2  # noqa: E402
import bb.parse  # noqa: E402
import bb.parse.parse_py.BBHandler  # noqa: E402

LAYER = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
README = os.path.join(LAYER, "README.md")
FEATURE = "features/k3s-rs/k3s.scc"


def fail(msg):
    print(f"kernel-parse: {msg}", file=sys.stderr)
    sys.exit(1)


def readme_line():
    """The bbappend line the README tells BSP-kernel users to write."""
    text = open(README).read()
    m = re.search(r"^(require \$\{@bb\.utils\.contains\('DISTRO_FEATURES', d\.getVar\('K3S_DISTRO_FEATURE'\), "
                  r"'recipes-kernel/linux/linux-yocto-k3s\.inc', '', d\)\})$", text, re.M)
    if not m:
        fail("README.md does not show the bbappend line for other kernel-yocto kernels")
    return m.group(1)


def layer_feature():
    """The layer's distro feature, as conf/layer.conf defines it (BitBake reads it from there for every recipe)."""
    m = re.search(r'^K3S_DISTRO_FEATURE\s*\??=\s*"([^"]+)"', open(os.path.join(LAYER, "conf", "layer.conf")).read(), re.M)
    if not m:
        fail("conf/layer.conf does not define K3S_DISTRO_FEATURE")
    return m.group(1)


def parse(work, features):
    bbpath = os.path.join(work, "bbpath")
    os.makedirs(os.path.join(bbpath, "classes"), exist_ok=True)
    open(os.path.join(bbpath, "classes", "kernel-yocto.bbclass"), "w").close()  # stand-in for OE-Core's
    user = os.path.join(work, "meta-board", "recipes-kernel", "linux")
    os.makedirs(user, exist_ok=True)
    recipe = os.path.join(user, "linux-bsp_6.6.bb")
    with open(recipe, "w") as f:
        f.write('SUMMARY = "A board kernel (stand-in)"\nLICENSE = "GPL-2.0-only"\ninherit kernel-yocto\n'
                'SRC_URI = "git://example.invalid/linux.git;branch=main;protocol=https"\n'
                'KERNEL_FEATURES = "features/netfilter/netfilter.scc"\n')
    append = os.path.join(user, "linux-bsp_%.bbappend")
    with open(append, "w") as f:
        f.write(readme_line() + "\n")
    d = bb.data.init()
    for k, v in {
        "BBPATH": f"{bbpath}:{LAYER}",
        "__bbclasstype": "recipe",
        "FILE": recipe,
        "PN": "linux-bsp",
        "WORKDIR": work,
        "UNPACKDIR": os.path.join(work, "sources"),
        "DL_DIR": os.path.join(work, "downloads"),
        "PERSISTENT_DIR": os.path.join(work, "persistent"),
        "BB_NO_NETWORK": "1",
        "DISTRO_FEATURES": features,
        "K3S_DISTRO_FEATURE": layer_feature(),
        "SRCREV": "INVALID",
        # As bitbake.conf defines it: the directory of the file being parsed (the .inc's own, inside it).
        "THISDIR": "${@os.path.dirname(d.getVar('FILE'))}",
    }.items():
        d.setVar(k, v)
    bb.parse.handle(recipe, d, True)
    # BitBake applies a bbappend by parsing it after the recipe into the same datastore (ast.multi_finalize).
    bb.parse.parse_py.BBHandler.handle(append, d, True)
    bb.data.expandKeys(d)
    return d


def main():
    with tempfile.TemporaryDirectory() as work:
        # meta-virtualization's "k3s" feature is not ours: it must change nothing either.
        for name, features in (("off", "systemd"), ("meta-virt", "systemd seccomp k3s")):
            d = parse(os.path.join(work, name), features)
            if "k3s" in (d.getVar("KERNEL_FEATURES") or "") or "k3s-kmeta" in (d.getVar("SRC_URI") or ""):
                fail(f"with DISTRO_FEATURES '{features}' the bbappend still changed the kernel")
        d = parse(os.path.join(work, "on"), "systemd usrmerge seccomp " + layer_feature())
        features = (d.getVar("KERNEL_FEATURES") or "").split()
        if features[-1:] != [FEATURE] or features[0] != "features/netfilter/netfilter.scc":
            fail(f"KERNEL_FEATURES is {features}: the layer's feature must come after the board's")
        kmeta = [u for u in (d.getVar("SRC_URI") or "").split() if ";type=kmeta" in u]
        if kmeta != ["file://k3s-kmeta;type=kmeta"]:
            fail(f"SRC_URI kmeta entries: {kmeta}")
        # FILESPATH as base.bbclass derives it from FILESEXTRAPATHS (stand-in for that derivation).
        d.setVar("FILESPATH", ":".join(p for p in (d.getVar("FILESEXTRAPATHS") or "").split(":") if p))
        fetch = bb.fetch2.Fetch(kmeta, d)
        fetch.download()
        os.makedirs(d.getVar("UNPACKDIR"), exist_ok=True)
        fetch.unpack(d.getVar("UNPACKDIR"))
        # do_kernel_metadata: a type=kmeta file:// entry's basepath becomes an include directory.
        dirs = [os.path.join(d.getVar("UNPACKDIR"), fetch.ud[u].basepath) for u in fetch.urls
                if fetch.ud[u].parm.get("type") == "kmeta"]
        found = [p for p in dirs if os.path.isfile(os.path.join(p, FEATURE))]
        if not found:
            fail(f"{FEATURE} is not in the unpacked kmeta directories {dirs}")
        scc = open(os.path.join(found[0], FEATURE)).read()
        cfg = re.search(r"^kconf non-hardware (\S+)$", scc, re.M)
        if not cfg or not os.path.isfile(os.path.join(os.path.dirname(os.path.join(found[0], FEATURE)), cfg.group(1))):
            fail(f"{FEATURE} does not name a .cfg next to it")
        print(f"kernel-parse: a BSP kernel with the README's bbappend gets {FEATURE} last "
              f"({len(features)} KERNEL_FEATURES), the kmeta directory unpacks and holds {cfg.group(1)}")


if __name__ == "__main__":
    main()
