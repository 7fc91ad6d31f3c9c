# Build meta-k3s-rs's k3s, runc and CNI plugins, not another layer's recipes of the same names.
#
# INHERITed globally by conf/distro/include/k3s.inc. BitBake picks among same-named recipes by layer priority, so
# with meta-virtualization (priority 8; this layer is 6) in BBLAYERS its k3s and runc would be built and every
# K3S_* knob would silently do nothing. PREFERRED_PROVIDER selects between recipe names, not between two files of
# one name, and PREFERRED_VERSION falls back to priority when the versions are equal; skipping the other layer's
# recipe is the one selection that always holds.
#
#   K3S_OWN_RECIPES          recipe names this layer builds its own way (set by k3s.inc)
#   K3S_OTHER_LAYER_RECIPES  "skip" (default): other layers' recipes of those names are skipped, with the reason;
#                            "build": leave them to BitBake's priority rules, with a warning whenever another
#                            layer's recipe would win (the knobs and the node tools then do not apply to it)

K3S_OWN_RECIPES ??= ""
K3S_OTHER_LAYER_RECIPES ??= "skip"

def k3s_collection_of(d, path):
    """The collection (layer) a recipe file belongs to, decided as BitBake does: by BBFILE_PATTERN."""
    import re
    for collection in (d.getVar('BBFILE_COLLECTIONS') or '').split():
        pattern = d.getVar('BBFILE_PATTERN_' + collection)
        if pattern and re.match(pattern, path):
            return collection
    return None

def k3s_priority_of(d, collection):
    try:
        return int(d.getVar('BBFILE_PRIORITY_' + collection) or 0)
    except ValueError:
        return 0

# A recipe must be skipped at parse time, before BitBake chooses a provider, so this cannot wait for a task.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    pn = d.getVar('PN')
    if pn not in (d.getVar('K3S_OWN_RECIPES') or '').split():
        return
    policy = d.getVar('K3S_OTHER_LAYER_RECIPES')
    if policy not in ('skip', 'build'):
        bb.fatal('K3S_OTHER_LAYER_RECIPES = "%s" is not valid; expected "skip" or "build" (set it in local.conf)'
                 % policy)
    ours = 'k3s-rs'
    path = d.getVar('FILE')
    layer = k3s_collection_of(d, path)
    if layer == ours:
        return
    if policy == 'skip':
        raise bb.parse.SkipRecipe(
            "%s from layer %s (%s) is not used: conf/distro/include/k3s.inc builds meta-k3s-rs's %s instead "
            "(K3S_OTHER_LAYER_RECIPES = \"build\" to let BitBake's layer priorities decide)" % (pn, layer, path, pn))
    # Equal priorities leave it to the versions: warn then too, the other recipe may well win.
    if layer is None or k3s_priority_of(d, layer) >= k3s_priority_of(d, ours):
        bb.warn("%s from layer %s (%s, priority %d; meta-k3s-rs: %d) would be built instead of meta-k3s-rs's %s "
                "(K3S_OTHER_LAYER_RECIPES = \"build\"): the K3S_* knobs do not apply to it and meta-k3s-rs's "
                "k3s-node cannot be installed with it" % (pn, layer, path, k3s_priority_of(d, layer or ''),
                                                          k3s_priority_of(d, ours), pn))
}
