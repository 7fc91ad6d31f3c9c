# Rebuilds the module zips BitBake's gomodgit fetcher unpacks so that they match what the go command expects.
#
# BitBake 2.18's gomodgit keeps a subdirectory module's directory prefix inside the zip and includes nested modules
# and vendored packages, so `go build` finds no package or rejects the go.sum hash. After do_unpack, every gomodgit
# zip is rebuilt from the bare repository the fetcher unpacked, with the go command's rules (lib/k3s_gomod).
# Rendered *-go-mods.inc files inherit this class when they hold gomodgit:// entries.

do_unpack[postfuncs] += "gomodgit_rezip"

python gomodgit_rezip() {
    import k3s_gomod

    rootdir = d.getVar('UNPACKDIR')
    moddir = d.getVar('GO_MOD_CACHE_DIR') or 'pkg/mod'
    fetcher = bb.fetch2.Fetch((d.getVar('SRC_URI') or '').split(), d)
    for url in fetcher.urls:
        ud = fetcher.ud[url]
        if ud.type != 'gomodgit':
            continue
        path = k3s_gomod.rezip_unpacked(rootdir, moddir, ud.parm['module'], ud.parm['version'],
                                        ud.parm['srcrev'], ud.parm.get('subpath', ''), ud.parm['subdir'])
        bb.note('gomodgit_rezip: rebuilt %s' % path)
}
