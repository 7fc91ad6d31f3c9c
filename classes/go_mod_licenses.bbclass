# Puts every Go module licence file LIC_FILES_CHKSUM lists in place before do_populate_lic, whatever the build
# loads: after do_unpack, each listed file is extracted from the module zip BitBake's gomod:// / gomodgit://
# fetcher downloaded and verified (pkg/mod/cache/download) into ${S}/pkg/mod-licenses/<module>@<version>/
# (lib/k3s_gomod). The go command extracts into pkg/mod only the modules a build loads, so licence files of
# modules another set of build tags would link (or none) would be missing there. Rendered *-licenses.inc files
# inherit this class and point LIC_FILES_CHKSUM into that tree.

do_unpack[postfuncs] += "go_mod_licenses"

python go_mod_licenses() {
    import k3s_gomod

    sdir = d.getVar('S')
    moddir = os.path.relpath(d.getVar('GOMODCACHE') or os.path.join(sdir, 'pkg/mod'), sdir)
    n = k3s_gomod.extract_licenses(sdir, moddir, d.getVar('LIC_FILES_CHKSUM') or '')
    bb.note('go_mod_licenses: %d licence files extracted from the module zips' % n)
}
