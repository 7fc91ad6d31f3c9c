#!/usr/bin/env python3
"""Publishes a module version from a source directory into a directory in the Go module proxy layout
(<escaped module>/@v/{list,<v>.info,<v>.mod,<v>.zip}), as `go mod download` would fetch it."""
import json
import os
import re
import sys
import zipfile

proxy, module, version, src = sys.argv[1:5]
esc = lambda s: re.sub(r"([A-Z])", lambda m: "!" + m.group(1).lower(), s)
d = os.path.join(proxy, esc(module), "@v")
os.makedirs(d, exist_ok=True)
with zipfile.ZipFile(os.path.join(d, esc(version) + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for dirpath, _, names in os.walk(src):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            z.write(p, f"{module}@{version}/{os.path.relpath(p, src)}")
with open(os.path.join(src, "go.mod"), "rb") as f, open(os.path.join(d, esc(version) + ".mod"), "wb") as o:
    o.write(f.read())
with open(os.path.join(d, esc(version) + ".info"), "w") as f:
    json.dump({"Version": version, "Time": "2026-01-01T00:00:00Z"}, f)
with open(os.path.join(d, "list"), "a") as f:
    f.write(version + "\n")
