#!/usr/bin/env python3
"""Install the layer's recipes into a root file system the way BitBake would: parse each recipe with BitBake's
own parser (PyPI ``bitbake-setup`` ships ``bb``), run its real ``do_install`` (shell, with its postfuncs) into
``${D}``, split ``${D}`` into packages by ``PACKAGES``/``FILES`` (first match wins, as ``populate_packages`` does;
a file no package claims is an error, as OE's installed-vs-shipped QA), copy the chosen packages into ROOT and
enable ``SYSTEMD_SERVICE`` units of ``SYSTEMD_PACKAGES`` unless ``SYSTEMD_AUTO_ENABLE`` is ``disable``
(``systemctl --root``, as OE-Core's systemd class does at rootfs time).

So the systemd suite boots exactly what the recipes install — the same ``@VAR@`` substitutions, drop-ins, config
files, links and modes — and cannot drift from them: there is no second description to drift.

Not real here (CI has no OE-Core): OE-Core's classes (go-mod, cargo, systemd) are empty stand-ins, so their own
do_install is replaced by putting the built binaries where it would (``${B}/bin`` for k3s, ``${D}${bindir}`` for
cargo); bitbake.conf's directory variables are set to OE-Core's values with ``usrmerge``.

Also used by .ci/layer-checks.py tests: ``datastore(recipe, work, overrides)`` returns the parsed recipe.
"""

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import types

for _m in ("hashserv", "hashserv.client"):
    sys.modules.setdefault(_m, types.ModuleType(_m))
sys.modules["hashserv"].client = sys.modules["hashserv.client"]

import bb  # noqa: E402
import bb.build  # noqa: E402
import bb.data  # noqa: E402
import bb.parse  # noqa: E402
import bb.siggen  # noqa: E402
import bb.utils  # noqa: E402

LAYER = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(LAYER, "lib"))  # what conf/layer.conf's addpylib does

# OE-Core wrynose meta/conf/bitbake.conf, with DISTRO_FEATURES usrmerge (k3s.inc requires systemd, which needs it).
OE_DIRS = {
    "prefix": "/usr",
    "exec_prefix": "/usr",
    "base_prefix": "",
    "bindir": "/usr/bin",
    "sbindir": "/usr/sbin",
    "libexecdir": "/usr/libexec",
    "libdir": "/usr/lib",
    "datadir": "/usr/share",
    "sysconfdir": "/etc",
    "localstatedir": "/var",
    "sharedstatedir": "/com",
    "base_bindir": "/usr/bin",
    "base_sbindir": "/usr/sbin",
    "base_libdir": "/usr/lib",
    "nonarch_base_libdir": "/usr/lib",
    "systemd_unitdir": "/usr/lib/systemd",
    "systemd_system_unitdir": "/usr/lib/systemd/system",
}
# bitbake.conf's default package list and FILES:${PN} (the parts that can match what these recipes install).
OE_PACKAGES = "${PN}-dbg ${PN}-staticdev ${PN}-dev ${PN}-doc ${PN}-locale ${PN}"
OE_FILES_PN = ("${bindir}/* ${sbindir}/* ${libexecdir}/* ${libdir}/lib*.so.* ${sysconfdir} ${sharedstatedir} "
               "${localstatedir} ${base_bindir}/* ${base_sbindir}/* ${datadir}/${BPN} ${libdir}/${BPN}/*")
OE_FILES_DEV = "${includedir} ${libdir}/pkgconfig"
OE_FILES_DOC = "${docdir} ${mandir} ${infodir} ${datadir}/gtk-doc"


def layer_feature():
    """The layer's distro feature, read where BitBake reads it (conf/layer.conf K3S_DISTRO_FEATURE)."""
    with open(os.path.join(LAYER, "conf", "layer.conf"), encoding="utf-8") as f:
        m = re.search(r'^K3S_DISTRO_FEATURE\s*\??=\s*"([^"]+)"', f.read(), re.M)
    if not m:
        sys.exit("bbinstall: conf/layer.conf does not define K3S_DISTRO_FEATURE")
    return m.group(1)


def datastore(recipe, work, overrides=None):
    """The recipe parsed by BitBake (anonymous Python run: a bb.fatal there raises)."""
    bbpath = os.path.join(work, "bbpath")
    os.makedirs(os.path.join(bbpath, "classes"), exist_ok=True)
    for cls in ("go-mod", "go", "cargo", "cargo_common", "cargo-update-recipe-crates", "systemd"):
        with open(os.path.join(bbpath, "classes", cls + ".bbclass"), "w") as f:
            if cls in ("cargo", "go-mod"):
                # The class's do_install (cargo_do_install / go_do_install) is replaced by the caller placing the
                # built binaries; a recipe's do_install:append still needs a do_install to append to.
                f.write("do_install() {\n\t:\n}\n")
    recipe = os.path.abspath(recipe)
    base = os.path.basename(recipe)[: -len(".bb")]
    bpn, pv = base.rsplit("_", 1)
    d = bb.data.init()
    values = {
        "BBPATH": bbpath + ":" + LAYER,
        "__bbclasstype": "recipe",
        "FILE": recipe,
        "THISDIR": os.path.dirname(recipe),
        "FILE_DIRNAME": os.path.dirname(recipe),
        "PN": bpn,
        "BPN": bpn,
        "PV": pv,
        "BP": "${BPN}-${PV}",
        "WORKDIR": work,
        "UNPACKDIR": os.path.join(work, "sources"),
        "S": "${UNPACKDIR}/${BP}",
        "B": "${WORKDIR}/build",
        "D": "${WORKDIR}/image",
        "T": "${WORKDIR}/temp",
        "DL_DIR": os.path.join(work, "downloads"),
        "FILESPATH": "",
        "BB_NO_NETWORK": "1",
        "K3S_DISTRO_FEATURE": layer_feature(),
        "DISTRO_FEATURES": "systemd usrmerge seccomp ${K3S_DISTRO_FEATURE}",
        "PACKAGES": OE_PACKAGES,
        "FILES:${PN}": OE_FILES_PN,
        "FILES:${PN}-dev": OE_FILES_DEV,
        "FILES:${PN}-doc": OE_FILES_DOC,
        "includedir": "/usr/include",
        "docdir": "/usr/share/doc",
        "mandir": "/usr/share/man",
        "infodir": "/usr/share/info",
        "SRCREV": "INVALID",
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "SHELL": "/bin/sh",
    }
    values.update(OE_DIRS)
    for k, v in values.items():
        d.setVar(k, v)
    for k, v in (overrides or {}).items():
        d.setVar(k, v)

    bb.parse.siggen = bb.siggen.init(d)  # the "noop" signature generator: finalize needs one
    variants = bb.parse.handle(recipe, d, False)
    return variants[""]


def run_install(d, files_dir):
    """do_install with its postfuncs, as bb.build's task runner orders them."""
    for var in ("T", "B", "D"):
        os.makedirs(d.getVar(var), exist_ok=True)
    # The recipe's file:// sources, as do_unpack leaves them in ${UNPACKDIR}.
    unpack = d.getVar("UNPACKDIR")
    if files_dir:
        shutil.copytree(files_dir, unpack, dirs_exist_ok=True)
    os.makedirs(unpack, exist_ok=True)
    for f in ["do_install"] + (d.getVarFlag("do_install", "postfuncs") or "").split():
        bb.build.exec_func(f, d)


def run_install_postfuncs_only(d, files_dir):
    """Only do_install's postfuncs (the units and config files; the shell part installs binaries)."""
    for var in ("T", "B", "D"):
        os.makedirs(d.getVar(var), exist_ok=True)
    shutil.copytree(files_dir, d.getVar("UNPACKDIR"), dirs_exist_ok=True)
    for f in (d.getVarFlag("do_install", "postfuncs") or "").split():
        bb.build.exec_func(f, d)


def packages(d):
    """{package: [paths relative to ${D}]} by PACKAGES order, first match wins; unclaimed files are an error."""
    dest = d.getVar("D")
    claimed = {}
    order = (d.getVar("PACKAGES") or "").split()
    all_files = []
    for top, dirs, files in os.walk(dest):
        for name in sorted(dirs + files):
            all_files.append("/" + os.path.relpath(os.path.join(top, name), dest))
    all_files.sort()
    for pkg in order:
        patterns = (d.getVar("FILES:" + pkg) or "").split()
        for path in all_files:
            if path in claimed:
                continue
            for pat in patterns:
                if path == pat or fnmatch.fnmatchcase(path, pat) or path.startswith(pat.rstrip("/") + "/"):
                    claimed[path] = pkg
                    break
    unclaimed = [p for p in all_files if p not in claimed and not os.path.isdir(dest + p)]
    if unclaimed:
        raise SystemExit("bbinstall: %s: installed but not shipped in any package: %s"
                         % (d.getVar("PN"), " ".join(unclaimed)))
    out = {}
    for path, pkg in claimed.items():
        out.setdefault(pkg, []).append(path)
    return out


def copy_package(d, paths, root):
    dest = d.getVar("D")
    for p in sorted(paths):
        src, dst = dest + p, root + p
        if os.path.isdir(src) and not os.path.islink(src):
            os.makedirs(dst, exist_ok=True)
            shutil.copystat(src, dst)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.lexists(dst):
                os.unlink(dst)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)


def enable_units(d, root, chosen):
    for pkg in (d.getVar("SYSTEMD_PACKAGES") or d.getVar("PN")).split():
        if pkg not in chosen:
            continue
        if (d.getVar("SYSTEMD_AUTO_ENABLE:" + pkg) or d.getVar("SYSTEMD_AUTO_ENABLE") or "enable") == "disable":
            continue
        for unit in (d.getVar("SYSTEMD_SERVICE:" + pkg) or "").split():
            subprocess.run(["systemctl", "--root=" + root, "enable", unit], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print("bbinstall: enabled %s (%s)" % (unit, pkg))


def install_airgap(archive, work, overrides):
    """k3s-airgap-images: parsed, fetched by BitBake's fetcher from a file:// PREMIRROR holding ARCHIVE under the
    name the recipe downloads to, checked against the sha256 set in the recipe's SRC_URI flag (a fabricated
    archive cannot have the real one's; the recipe Python tests show the real flag refusing it), then its real
    do_install. The checked sha256 is written to WORK/checked.sha256 for the suite to compare with the image."""
    import hashlib
    import bb.fetch2
    settings = dict(overrides)
    settings.setdefault("TARGET_ARCH", "x86_64")
    d = datastore(os.path.join(LAYER, "recipes-containers/k3s-airgap-images/k3s-airgap-images_release.bb"), work,
                  settings)
    if d.getVar("__SKIPPED"):
        raise SystemExit("bbinstall: k3s-airgap-images skipped: %s" % d.getVar("__SKIPPED"))
    name = re.search(r"downloadfilename=([^;\s]+)", d.getVar("SRC_URI")).group(1)
    arch = d.getVar("K3S_AIRGAP_ARCH_NAME")
    mirror = os.path.join(work, "premirror")
    os.makedirs(mirror, exist_ok=True)
    shutil.copy2(archive, os.path.join(mirror, name))
    with open(archive, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    d.setVarFlag("SRC_URI", arch + ".sha256sum", sha)
    d.setVar("PREMIRRORS", "https://github.com/k3s-io/k3s/releases/download/.* file://%s/" % mirror)
    d.setVar("PERSISTENT_DIR", os.path.join(work, "persistent"))
    fetch = bb.fetch2.Fetch(d.getVar("SRC_URI").split(), d)
    fetch.download()
    os.makedirs(d.getVar("UNPACKDIR"), exist_ok=True)
    fetch.unpack(d.getVar("UNPACKDIR"))
    run_install(d, None)
    with open(os.path.join(work, "checked.sha256"), "w") as f:
        f.write(d.getVarFlag("SRC_URI", arch + ".sha256sum") + "\n")
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", help="the root file system to install into")
    ap.add_argument("--work", required=True)
    ap.add_argument("--k3s", required=True, help="binary standing in for ${B}/bin/k3s and the containerd shim")
    ap.add_argument("--node", required=True, help="the built k3s-node binary (cargo_do_install's output)")
    ap.add_argument("--packages", default="k3s k3s-server k3s-agent k3s-node",
                    help="packages to install into ROOT (default: both roles, role chosen at boot)")
    ap.add_argument("--set", action="append", default=[], metavar="VAR=VALUE", help="a local.conf setting")
    ap.add_argument("--airgap-archive", metavar="FILE",
                    help="also install k3s-airgap-images, fetching FILE (a fabricated archive) through a file:// "
                         "PREMIRROR with BitBake's fetcher, its sha256 in the recipe's SRC_URI flag")
    ap.add_argument("--workload", action="append", default=[], metavar="RECIPE",
                    help="also install a recipe inheriting k3s_workloads (its files/ directory as its sources)")
    a = ap.parse_args()
    overrides = dict(s.split("=", 1) for s in a.set)
    chosen = set(a.packages.split())
    if a.airgap_archive:
        chosen.add("k3s-airgap-images")

    k3s = datastore(os.path.join(LAYER, "recipes-containers/k3s/k3s_git.bb"), os.path.join(a.work, "k3s"),
                    overrides)
    os.makedirs(os.path.join(k3s.getVar("B"), "bin"), exist_ok=True)
    for name in ("k3s", "containerd-shim-runc-v2"):
        shutil.copy2(a.k3s, os.path.join(k3s.getVar("B"), "bin", name))
    run_install(k3s, os.path.join(LAYER, "recipes-containers/k3s/files"))

    node_bb = [f for f in os.listdir(os.path.join(LAYER, "recipes-containers/k3s-node")) if f.endswith(".bb")]
    node = datastore(os.path.join(LAYER, "recipes-containers/k3s-node", node_bb[0]), os.path.join(a.work, "node"),
                     overrides)
    node.setVar("K3S_NODE_TREE", LAYER)  # the unpacked workspace (file:// of the layer's own tree)
    dest_bin = node.getVar("D") + node.getVar("bindir")
    os.makedirs(dest_bin, exist_ok=True)
    shutil.copy2(a.node, os.path.join(dest_bin, node.getVar("K3S_NODE_BINARY")))
    run_install(node, None)

    recipes = [k3s, node]
    if a.airgap_archive:
        recipes.append(install_airgap(a.airgap_archive, os.path.join(a.work, "airgap"), overrides))
    for recipe in a.workload:
        d = datastore(recipe, os.path.join(a.work, "workload-" + os.path.basename(recipe)), overrides)
        run_install(d, os.path.join(os.path.dirname(os.path.abspath(recipe)), "files"))
        chosen.add(d.getVar("PN"))
        recipes.append(d)
    for d in recipes:
        split = packages(d)
        for pkg, paths in sorted(split.items()):
            if pkg in chosen:
                copy_package(d, paths, a.root)
                print("bbinstall: %s: %d paths" % (pkg, len(paths)))
        enable_units(d, a.root, chosen)


if __name__ == "__main__":
    main()
