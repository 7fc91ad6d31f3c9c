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

__all__ = ["escape", "unescape", "module_files", "write_module_zip", "rezip_unpacked", "LICENSE_DIR",
           "license_entries", "extract_licenses"]

# Where the rendered *-licenses.inc points LIC_FILES_CHKSUM (relative to ${S}, next to GOMODCACHE = ${S}/pkg/mod):
# the go command extracts into pkg/mod only the modules a build loads, and a directory there that it did not
# extract itself would be taken for a complete module, so licence files get a tree of their own.
LICENSE_DIR = "pkg/mod-licenses"


def escape(path):
    """Module cache spelling: upper-case letters become '!' + lower case."""
    return re.sub(r"([A-Z])", lambda m: "!" + m.group(1).lower(), path)


def unescape(path):
    """Inverse of escape(): '!' + lower case becomes upper case."""
    return re.sub(r"!([a-z])", lambda m: m.group(1).upper(), path)


def license_entries(lic_files_chksum):
    """(LIC_FILES_CHKSUM path, module, version, file in module) for every entry under LICENSE_DIR."""
    prefix = "file://" + LICENSE_DIR + "/"
    out = []
    for tok in lic_files_chksum.split():
        path = tok.split(";", 1)[0]
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix):]
        modver, sep, name = rest.partition("/")
        while "@" not in modver and sep:
            head, sep, name = name.partition("/")
            modver = modver + "/" + head
        if "@" not in modver or not name:
            raise ValueError("%s: expected %s<module>@<version>/<file>" % (tok, prefix))
        module, version = modver.rsplit("@", 1)
        if any(part in ("", ".", "..") for part in name.split("/")):
            raise ValueError("%s: licence file %r must be a plain path inside the module" % (tok, name))
        out.append((path[len("file://"):], unescape(module), unescape(version), name))
    return out


def extract_licenses(sdir, moddir, lic_files_chksum):
    """Writes every licence file LIC_FILES_CHKSUM lists under LICENSE_DIR from the module zip the fetcher put in
    ``<moddir>/cache/download`` (the checksummed download, whatever the build later loads). Returns the count."""
    import zipfile as _zip
    n = 0
    for rel, module, version, name in license_entries(lic_files_chksum):
        zpath = os.path.join(sdir, moddir, "cache/download", escape(module), "@v", escape(version) + ".zip")
        if not os.path.exists(zpath):
            raise FileNotFoundError("%s: no module zip %s (is %s@%s fetched with gomod:// or gomodgit://?)"
                                    % (rel, zpath, module, version))
        with _zip.ZipFile(zpath) as zf:
            try:
                data = zf.read("%s@%s/%s" % (module, version, name))
            except KeyError:
                raise FileNotFoundError("%s: %s is not in %s" % (rel, name, zpath)) from None
        dst = os.path.join(sdir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst + ".tmp", "wb") as f:
            f.write(data)
        os.replace(dst + ".tmp", dst)
        n += 1
    return n


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
