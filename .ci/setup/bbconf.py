#!/usr/bin/env python3
"""A build directory's configuration read by BitBake's own parser (PyPI ``bitbake-setup`` ships ``bb``), in the
order BitBake's cooker reads it (bb/cookerdata.py): ``conf/bblayers.conf``, then each BBLAYERS entry's
``conf/layer.conf`` with LAYERDIR set, then ``conf/local.conf`` (OE-Core's bitbake.conf includes it; OE-Core itself
is not here, so bitbake.conf is not parsed). ``require``/``include`` lines are resolved through BBPATH as BitBake
resolves them, so `require conf/distro/include/k3s.inc` must find this layer's file.

Usage: bbconf.py BUILDDIR VAR...   prints ``VAR=<expanded value>`` per VAR (``BBLAYERS`` one path per line as
``BBLAYERS+=path``, normalised); exits 1 with BitBake's message when anything does not parse.
"""

import os
import re
import sys
import types

for _m in ("hashserv", "hashserv.client"):
    sys.modules.setdefault(_m, types.ModuleType(_m))
sys.modules["hashserv"].client = sys.modules["hashserv.client"]

import bb  # noqa: E402
import bb.data  # noqa: E402
import bb.parse  # noqa: E402
import bb.utils  # noqa: E402


def main():
    builddir = os.path.abspath(sys.argv[1])
    names = sys.argv[2:]
    d = bb.data.init()
    d.setVar("TOPDIR", builddir)
    bb.parse.init_parser(d)
    try:
        d = bb.parse.handle(os.path.join(builddir, "conf", "bblayers.conf"), d, baseconfig=True)
        layers = (d.getVar("BBLAYERS") or "").split()
        for layer in layers:
            conf = os.path.join(layer, "conf", "layer.conf")
            if not os.path.isfile(conf):
                sys.exit(f"bbconf: BBLAYERS entry {layer} has no conf/layer.conf")
            d.setVar("LAYERDIR", layer)
            d.setVar("LAYERDIR_RE", re.escape(layer))
            d = bb.parse.handle(conf, d, True, baseconfig=True)
            # As cookerdata does: freeze ${LAYERDIR} in what this layer.conf set (BBPATH .= ":${LAYERDIR}").
            d.expandVarref("LAYERDIR")
            d.expandVarref("LAYERDIR_RE")
            d.delVar("LAYERDIR")
            d.delVar("LAYERDIR_RE")
        d = bb.parse.handle(os.path.join(builddir, "conf", "local.conf"), d, True, baseconfig=True)
    except Exception as e:  # BitBake's ParseError and friends
        sys.exit(f"bbconf: BitBake cannot parse the configuration: {e}")
    for name in names:
        if name == "BBLAYERS":
            for layer in layers:
                print(f"BBLAYERS+={os.path.normpath(layer)}")  # kas writes ${TOPDIR}/../x
        else:
            print(f"{name}={d.getVar(name) or ''}")


if __name__ == "__main__":
    main()
