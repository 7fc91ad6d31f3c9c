# SPDX-License-Identifier: MIT
"""Go module zips for BitBake's gomodgit fetcher, built the way the go command builds them.

BitBake's gomodgit fetcher (2.18) synthesises ``<version>.zip`` from every file under the module's directory and
keeps the directory prefix, so for a module in a subdirectory the go command finds no package at the module root,
and for any repository holding nested modules or vendored packages the zip's h1: hash differs from go.sum. The
go command's rules (cmd/go/internal/modfetch and golang.org/x/mod/zip):

- only files of the module's directory, named relative to it;
- no file inside a subdirectory that holds its own go.mod (a nested module);
- no file of a vendored package (``vendor/<pkg>/...``; files directly in ``vendor/`` stay);
- no symlinks or submodules;
- a module in a subdirectory without its own LICENSE gets the repository root's LICENSE.

``rezip_unpacked`` rebuilds the zip from the bare repository the fetcher unpacked next to it.
"""

import os
import re
import subprocess
import zipfile

__all__ = ["escape", "module_files", "write_module_zip", "rezip_unpacked"]


def escape(path):
    """Module cache spelling: upper-case letters become '!' + lower case."""
    return re.sub(r"([A-Z])", lambda m: "!" + m.group(1).lower(), path)


def _is_vendored_package(name):
    # Bug-compatible with golang.org/x/mod/zip: for "x/vendor/..." the offset is len("/vendor/"), not j + that.
    if name.startswith("vendor/"):
        i = len("vendor/")
    elif "/vendor/" in name:
        i = len("/vendor/")
    else:
        return False
    return "/" in name[i:]


def module_files(repodir, srcrev, subdir=""):
    """(name in zip, path in repository) pairs of a module at ``srcrev``, sorted by name."""
    out = subprocess.run(["git", "ls-tree", "-r", "-z", "--full-tree", srcrev],
                         cwd=repodir, check=True, capture_output=True).stdout
    prefix = subdir.strip("/") + "/" if subdir.strip("/") else ""
    blobs = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, path = entry.split(b"\t", 1)
        mode, kind, _ = meta.split(b" ")
        path = path.decode("utf-8", "surrogateescape")
        if kind != b"blob" or mode == b"120000":
            continue
        blobs[path] = True

    names = {}
    for path in blobs:
        if prefix and not path.startswith(prefix):
            continue
        names[path[len(prefix):]] = path
    nested = {os.path.dirname(n) for n in names if os.path.basename(n) == "go.mod" and os.path.dirname(n)}

    def in_nested(name):
        d = os.path.dirname(name)
        while d:
            if d in nested:
                return True
            d = os.path.dirname(d)
        return False

    files = {n: p for n, p in names.items() if not in_nested(n) and not _is_vendored_package(n)}
    if prefix and "LICENSE" not in files and "LICENSE" in blobs:
        files["LICENSE"] = "LICENSE"
    return sorted(files.items())


def write_module_zip(repodir, srcrev, module, version, subdir, zip_path):
    """Writes the go command's zip of ``module@version`` (deterministic: sorted, fixed timestamps)."""
    tmp = zip_path + ".tmp"
    with zipfile.ZipFile(tmp, mode="w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in module_files(repodir, srcrev, subdir):
            data = subprocess.run(["git", "cat-file", "blob", f"{srcrev}:{path}"],
                                  cwd=repodir, check=True, capture_output=True).stdout
            info = zipfile.ZipInfo(f"{module}@{version}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    os.replace(tmp, zip_path)


def rezip_unpacked(rootdir, moddir, module, version, srcrev, subpath, vcsdir):
    """Rebuilds the zip gomodgit unpacked under ``rootdir``; arguments as the fetcher's URL data holds them
    (``vcsdir`` is its ``subdir`` parameter: the bare repository relative to ``rootdir``)."""
    zip_path = os.path.join(rootdir, moddir, "cache/download", escape(module), "@v", escape(version) + ".zip")
    write_module_zip(os.path.join(rootdir, vcsdir), srcrev, module, version, subpath or "", zip_path)
    return zip_path
