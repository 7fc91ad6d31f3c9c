#!/usr/bin/env python3
"""Consistency checks of the BitBake layer that need no BitBake (the real parse runs outside CI; see README).

Each check names the file and what is wrong. Exit status 1 on any failure.
"""
import ast
import glob
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, os.path.join(ROOT, 'lib'))
import k3s_config.knobs as knobs  # noqa: E402  (what the k3s recipe's do_install runs)
failures = []


def read(rel):
    with open(os.path.join(ROOT, rel), encoding='utf-8') as f:
        return f.read()


def fail(where, what):
    failures.append('%s: %s' % (where, what))


def bb_value(text, var):
    """The value of `VAR = "..."` / `?=` / `??=` (line continuations joined), or None."""
    m = re.search(r'^%s\s*(?:\?\?=|\?=|=)\s*"((?:[^"\\]|\\.|\\\n)*)"' % re.escape(var), text, re.M)
    return None if m is None else m.group(1).replace('\\\n', ' ')


def check_units():
    recipe = read('recipes-containers/k3s/k3s_git.bb')
    substituted = set(knobs.UNIT_SUBSTITUTIONS)
    for unit in ('k3s.service', 'k3s-agent.service', 'cleanup-on-stop.conf'):
        rel = 'recipes-containers/k3s/files/' + unit
        text = read(rel)
        # k3s-killall.sh runs `systemctl stop` on the k3s units: from a unit's own ExecStop*/ExecStopPost that
        # blocking stop waits for itself until the stop timeout.
        if re.search(r'^ExecStop\w*=.*k3s-killall', text, re.M):
            fail(rel, 'a stop command runs k3s-killall.sh, which stops this very unit; use k3s-clean')
        for placeholder in set(re.findall(r'@([A-Z_]+)@', text)):
            if placeholder not in substituted:
                fail(rel, '@%s@ is never substituted by do_install' % placeholder)
        if 'file://%s' % unit not in recipe:
            fail(rel, 'not in the k3s recipe SRC_URI')
        if not unit.endswith('.service'):
            continue
        # k3s's documented unit semantics (install.sh), each a reason the node works as users expect.
        for line in ('Type=notify', 'Delegate=yes', 'KillMode=process', 'LimitNOFILE=1048576',
                     'LimitNPROC=infinity', 'LimitCORE=infinity', 'TasksMax=infinity', 'TimeoutStartSec=0',
                     'Restart=always', 'ExecStartPre=-@BASE_SBINDIR@/modprobe br_netfilter',
                     'ExecStartPre=-@BASE_SBINDIR@/modprobe overlay', 'WantedBy=multi-user.target'):
            if line not in text.splitlines():
                fail(rel, 'missing "%s"' % line)
        if not re.search(r'^Environment=PATH=@CNI_BIN_DIR@:', text, re.M):
            fail(rel, 'the CNI bin dir must come first on PATH: k3s points containerd at the dir holding host-local')
        want = 'ExecStart=@BINDIR@/k3s %s' % ('server' if unit == 'k3s.service' else 'agent')
        if want not in text.splitlines():
            fail(rel, 'missing "%s"' % want)


def check_unit_install():
    """The units are installed from one description: lib/k3s_config/knobs.py, run by the recipe's do_install and,
    through .ci/systemd/bbinstall.py, by the systemd suite. Nothing else may install them."""
    recipe = read('recipes-containers/k3s/k3s_git.bb')
    # Units and their drop-ins; other files (crictl.yaml) are plain do_install files.
    files = sorted(f for f in os.listdir(os.path.join(ROOT, 'recipes-containers/k3s/files'))
                   if f.endswith(('.service', '.conf')))
    described = sorted(list(knobs.UNITS) + [knobs.CLEANUP_DROPIN])
    if files != described:
        fail('recipes-containers/k3s/files', 'files %s but lib/k3s_config/knobs.py installs %s' % (files, described))
    if 'do_install[postfuncs] += "k3s_install_units_and_config"' not in recipe or \
            'k3s_config.knobs.install(d)' not in recipe:
        fail('recipes-containers/k3s/k3s_git.bb', 'do_install must install units and config through '
             'k3s_config.knobs.install (the description the systemd suite runs)')
    if 'require k3s-config-facts.inc' not in recipe:
        fail('recipes-containers/k3s/k3s_git.bb', 'must require the generated k3s-config-facts.inc')
    if re.search(r'^\s*(install|sed|cp)\b.*\.service', recipe, re.M):
        fail('recipes-containers/k3s/k3s_git.bb', 'a unit is installed by shell, not by k3s_config.knobs.install')
    suite = read('.ci/test.d/70-systemd.sh')
    if '.ci/systemd/bbinstall.py' not in suite:
        fail('.ci/test.d/70-systemd.sh', 'must install the layer through .ci/systemd/bbinstall.py (the recipes)')
    if re.search(r'recipes-containers/|\.service\.d/50-|systemctl --root', suite):
        fail('.ci/test.d/70-systemd.sh', 'installs or enables units by itself: that drifts from the recipes')
    node = read('recipes-containers/k3s-node/k3s-node.inc')
    if 'k3s-role-setup.service' not in node:
        fail('recipes-containers/k3s-node/k3s-node.inc', 'does not install k3s-role-setup.service')
    agent = read('recipes-containers/k3s/files/k3s-agent.service')
    if not re.search(r'^After=.*\bk3s\.service\b', agent, re.M):
        fail('recipes-containers/k3s/files/k3s-agent.service', 'needs After=k3s.service: a role switch must finish '
             'the stopping unit\'s cleanup before the other unit starts')
    if 'Environment=K3S_CONFIG_FILE=@AGENT_CONFIG@' not in agent.splitlines():
        fail('recipes-containers/k3s/files/k3s-agent.service', 'the agent must read its own config file '
             '(k3s agent refuses the server-only keys of config.yaml)')
    for unit in knobs.UNITS + (knobs.CLEANUP_DROPIN,):
        if re.search(r'K3S_TOKEN=|K3S_AGENT_TOKEN=', read('recipes-containers/k3s/files/' + unit)):
            fail('recipes-containers/k3s/files/' + unit, 'a token in a unit is readable by every user')


def check_file_uris():
    for rel in glob.glob('recipes-*/**/*.bb', root_dir=ROOT, recursive=True) + \
            glob.glob('recipes-*/**/*.inc', root_dir=ROOT, recursive=True):
        text = read(rel)
        # Search directories a recipe adds itself: `FILESPATH:prepend := "${THISDIR}/<dir>:"` (the generated
        # node-tools recipe fetches the layer's own Cargo workspace that way).
        extra = re.findall(r'^FILESPATH:prepend\s*:?=\s*"\$\{THISDIR\}/([^:"]+):"', text, re.M)
        for name in re.findall(r'file://([^\s;"\\]+)', text):
            if '${' in name or name.startswith('src/') or '/' in name:
                continue  # LIC_FILES_CHKSUM paths inside the sources
            here = os.path.join(ROOT, os.path.dirname(rel))
            if not any(os.path.exists(os.path.join(here, d, name)) for d in ['files', '.'] + extra):
                fail(rel, 'file://%s does not exist next to the recipe' % name)


def check_distro_features():
    inc = read('conf/distro/include/k3s.inc')
    turned_on = set(bb_value(inc, 'DISTRO_FEATURES:append').split())
    required = set(bb_value(read('classes/k3s_distro_check.bbclass'), 'K3S_REQUIRED_DISTRO_FEATURES').split())
    if not required <= turned_on:
        fail('conf/distro/include/k3s.inc', 'does not turn on %s, which the recipes require'
             % ' '.join(sorted(required - turned_on)))
    if 'INHERIT += "k3s_image"' not in inc:
        fail('conf/distro/include/k3s.inc', 'must INHERIT k3s_image so any image accepts the k3s features')


def check_kernel_gate():
    rel = 'recipes-kernel/linux/linux-yocto_%.bbappend'
    lines = [line for line in read(rel).splitlines() if line.strip() and not line.startswith('#')]
    gate = "require ${@bb.utils.contains('DISTRO_FEATURES', d.getVar('K3S_DISTRO_FEATURE'), 'linux-yocto-k3s.inc', '', d)}"
    if lines != [gate]:
        fail(rel, 'must only require the fragment include behind the layer\'s DISTRO_FEATURE (signatures!)')
    feature = 'recipes-kernel/linux/files/k3s-kmeta/features/k3s-rs/'
    cfg = read(feature + 'k3s.cfg')
    if not re.search(r'^CONFIG_NET_NS=y$', cfg, re.M) or 'kconf non-hardware k3s.cfg' not in read(feature + 'k3s.scc'):
        fail(feature, 'fragment or .scc is not the generated one')
    # The fragment must be merged after linux-yocto's default KERNEL_FEATURES (netfilter.scc sets =m): applied as a
    # KERNEL_FEATURES entry from a kmeta directory, never as a SRC_URI .scc/.cfg (those are merged before them).
    inc = read('recipes-kernel/linux/linux-yocto-k3s.inc')
    if 'KERNEL_FEATURES:append = " features/k3s-rs/k3s.scc"' not in inc or 'file://k3s-kmeta;type=kmeta' not in inc \
            or re.search(r'file://[^"]*\.(scc|cfg)', inc):
        fail('recipes-kernel/linux/linux-yocto-k3s.inc', 'must apply features/k3s-rs/k3s.scc through KERNEL_FEATURES '
             'from the k3s-kmeta directory (a SRC_URI .scc is merged before netfilter.scc)')


def check_node_tools():
    rel = 'recipes-containers/k3s-node/k3s-node-tools.inc'
    value = bb_value(read(rel), 'K3S_NODE_TOOLS')
    if value is None:
        fail(rel, 'K3S_NODE_TOOLS is not set (regenerate with cargo run -p k3s-bake -- gen)')
        return
    tools = value.split()
    tests = read('lib/oeqa/runtime/cases/k3s.py')
    m = re.search(r"for tool in \(([^)]*)\)", tests)
    listed = re.findall(r"'([^']+)'", m.group(1)) if m else []
    if sorted(tools) != sorted(listed):
        fail('lib/oeqa/runtime/cases/k3s.py', 'tool links %s differ from K3S_NODE_TOOLS %s' % (listed, tools))


def check_go_cgo_pkgconfig():
    """A Go recipe whose linked packages use `#cgo pkg-config:` must inherit pkgconfig (else pkg-config is not in
    the recipe sysroot and `go build` stops). Which packages need it is a recorded fact (.ci/go-cgo-pkgconfig.tsv,
    from real builds); every Go recipe must have a row."""
    rel = '.ci/go-cgo-pkgconfig.tsv'
    facts = {}
    for n, line in enumerate(read(rel).splitlines(), 1):
        if not line or line.startswith('#'):
            continue
        f = line.split('\t')
        if len(f) != 3 or not f[1] or not f[2]:
            fail('%s:%d' % (rel, n), 'expected recipe<TAB>pkg-config packages or -<TAB>evidence')
            continue
        facts[f[0]] = f[1]
    recipes = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'recipes-*', '*', '*.bb')))
    for rec in recipes:
        text = read(rec)
        inherits = set(w for m in re.findall(r'^inherit\s+(.+)$', text, re.M) for w in m.split())
        if not inherits & {'go', 'go-mod'}:
            continue
        if rec not in facts:
            fail(rec, 'Go recipe without a row in %s (run its real build and record the cgo pkg-config packages)' % rel)
        elif facts[rec] != '-' and 'pkgconfig' not in inherits:
            fail(rec, 'links packages with `#cgo pkg-config: %s` but does not inherit pkgconfig' % facts[rec])
    for rec in facts:
        if rec not in recipes:
            fail(rel, '%s: no such recipe' % rec)


def check_python():
    for rel in glob.glob('lib/oeqa/**/*.py', root_dir=ROOT, recursive=True):
        try:
            ast.parse(read(rel), rel)
        except SyntaxError as e:
            fail(rel, 'syntax error: %s' % e)


def check_patches():
    for rel in glob.glob('recipes-*/**/*.patch', root_dir=ROOT, recursive=True):
        if not re.search(r'^Upstream-Status: (Pending|Submitted|Accepted|Backport|Denied|Inactive-Upstream|'
                         r'Inappropriate)', read(rel), re.M):
            fail(rel, 'patch without a valid Upstream-Status:')


def check_ci_apt():
    # CI runs on a shared machine: an apt-get without the dpkg lock timeout fails at once when another one runs.
    for rel in sorted(glob.glob('.ci/**/*.sh', root_dir=ROOT, recursive=True) + ['.ci/run', '.ci/test']):
        for n, line in enumerate(read(rel).splitlines(), 1):
            code = line.split('#', 1)[0]
            if re.search(r'\bapt-get\b', code) and 'DPkg::Lock::Timeout' not in code and 'apt_opts' not in code:
                fail('%s:%d' % (rel, n), 'apt-get without -o DPkg::Lock::Timeout (use apt_install/apt_update '
                     'from .ci/lib.sh)')


# --- living next to meta-virtualization ---------------------------------------------------------------------------
# OE-Core's path variables as a wrynose build with usrmerge (which k3s.inc turns on) expands them.
OE_PATHS = {'bindir': '/usr/bin', 'sbindir': '/usr/sbin', 'base_sbindir': '/usr/sbin', 'sysconfdir': '/etc',
            'localstatedir': '/var', 'libexecdir': '/usr/libexec', 'datadir': '/usr/share',
            'systemd_system_unitdir': '/usr/lib/systemd/system', 'systemd_unitdir': '/usr/lib/systemd'}
# Our recipes and the files they take their values from; PN is the recipe file's name up to "_".
OUR_RECIPES = {
    'recipes-containers/k3s/k3s_git.bb': ['conf/include/k3s-cni.inc'],
    'recipes-containers/runc/runc_git.bb': [],
    'recipes-networking/cni-plugins/cni-plugins_git.bb': ['conf/include/k3s-cni.inc'],
    'recipes-networking/flannel-cni-plugin/flannel-cni-plugin_git.bb': ['conf/include/k3s-cni.inc'],
    'recipes-containers/k3s-node/k3s-node_0.1.0.bb': ['recipes-containers/k3s-node/k3s-node.inc',
                                                      'recipes-containers/k3s-node/k3s-node-tools.inc'],
}


def meta_virt_facts():
    rows = []
    for number, line in enumerate(read('.ci/meta-virtualization-packaging.tsv').splitlines(), 1):
        if line.strip() and not line.startswith('#'):
            cols = line.split('\t')
            if len(cols) != 5:
                fail('.ci/meta-virtualization-packaging.tsv:%d' % number, 'expected 5 tab-separated columns')
                continue
            rows.append(dict(zip(('kind', 'recipe', 'package', 'value', 'where'), cols)))
    return rows


def shipped_paths(text, values):
    """(path, is_dir) for every ${D}... a do_install of `text` writes, loops over words or ${VARS} expanded."""
    def expand(s):
        return re.sub(r'\$\{(\w+)\}', lambda m: values.get(m.group(1), m.group(0)), s)
    found = []
    loops = {}
    for line in text.splitlines():
        m = re.match(r'\s*for (\w+) in ([^;]+); do', line)
        if m:
            loops[m.group(1)] = expand(m.group(2)).split()
        for token in re.findall(r'\$\{D\}([^\s;"\']+)', line):
            paths = [expand(token)]
            for name, words in loops.items():
                if '$' + name in token:
                    paths = [p.replace('$' + name, w) for p in paths for w in words]
            for path in paths:
                found.append((path.rstrip('/'), bool(re.search(r'\binstall\s+(-m\s*\S+\s+)?-d\b', line))))
    return found


def check_coexistence():
    """The clashes with meta-virtualization (facts in .ci/meta-virtualization-packaging.tsv) stay resolved."""
    facts = meta_virt_facts()
    feature = bb_value(read('conf/layer.conf'), 'K3S_DISTRO_FEATURE')
    if not feature:
        fail('conf/layer.conf', 'K3S_DISTRO_FEATURE is not set')
        return
    foreign_features = {f['value'] for f in facts if f['kind'] == 'feature'}
    if feature in foreign_features:
        fail('conf/layer.conf', 'K3S_DISTRO_FEATURE "%s" is a feature meta-virtualization sets for its own k3s'
             % feature)
    m = re.search(r'pub const DISTRO_FEATURE: &str = "([^"]*)"', read('tools/k3s-bake/src/render/kernel_fragment.rs'))
    if not m or m.group(1) != feature:
        fail('tools/k3s-bake/src/render/kernel_fragment.rs', 'DISTRO_FEATURE differs from K3S_DISTRO_FEATURE "%s"'
             % feature)
    # The feature is read from K3S_DISTRO_FEATURE everywhere; a literal foreign feature name in a check is a bug.
    metadata = [rel for pattern in ('**/*.bb', '**/*.bbappend', '**/*.bbclass', '**/*.inc', 'conf/**/*.conf')
                for rel in glob.glob(pattern, root_dir=ROOT, recursive=True) if not rel.startswith('target/')]
    for rel in sorted(set(metadata)):
        text = read(rel)
        for word in foreign_features:
            w = re.escape(word)
            if re.search(r"contains\(\s*'DISTRO_FEATURES'\s*,\s*'%s'" % w, text) or \
                    re.search(r'^\s*\w*DISTRO_FEATURES\S*\s*[?:+.]*=\s*"[^"]*(?<![-\w])%s(?![-\w])' % w, text, re.M):
                fail(rel, 'uses the DISTRO_FEATURE "%s" (meta-virtualization\'s); use ${K3S_DISTRO_FEATURE}' % word)

    inc = read('conf/distro/include/k3s.inc')
    own = set((bb_value(inc, 'K3S_OWN_RECIPES') or '').split())
    if 'INHERIT += "k3s_providers"' not in inc:
        fail('conf/distro/include/k3s.inc', 'must INHERIT k3s_providers (our recipes over same-named ones)')
    foreign_recipes = {f['recipe'] for f in facts if f['kind'] == 'recipe'}
    ours = {}
    for rel, includes in OUR_RECIPES.items():
        pn = os.path.basename(rel).split('_')[0]
        text = '\n'.join(read(x) for x in [rel] + includes)
        values = dict(OE_PATHS)
        for var in set(re.findall(r'^(\w+)\s*\??\??=', text, re.M)):
            value = bb_value(text, var)
            if value is not None:
                values[var] = ' '.join(value.split())
        ours[pn] = {'rel': rel, 'text': text, 'values': values,
                    'rconflicts': set((bb_value(text, 'RCONFLICTS:${PN}') or '').split()),
                    'rdepends': set((bb_value(text, 'RDEPENDS:${PN}') or '').split()),
                    'rprovides': set((bb_value(text, 'RPROVIDES:${PN}') or '').split())}
        if pn in foreign_recipes and pn not in own:
            fail('conf/distro/include/k3s.inc', 'K3S_OWN_RECIPES lacks %s: meta-virtualization has a recipe of that '
                 'name and a higher layer priority, so its %s would be built' % (pn, pn))
    rprovides = {}
    for f in facts:
        if f['kind'] == 'rprovides':
            rprovides.setdefault(f['package'], set()).add(f['value'])
    reported = set()
    for pn, r in ours.items():
        for path, is_dir in sorted(set(shipped_paths(r['text'], r['values']))):
            for f in facts:
                if f['kind'] not in ('file', 'dir', 'link'):
                    continue
                clash = (path == f['value'] and not (is_dir and f['kind'] == 'dir')) or \
                    (f['kind'] == 'link' and path.startswith(f['value'] + '/'))
                if not clash:
                    continue
                theirs = {f['package']} | rprovides.get(f['package'], set())
                if pn == f['recipe'] and pn in own:
                    continue  # only one of two same-named recipes is ever built (k3s_providers skips theirs)
                if r['rconflicts'] & theirs:
                    continue
                # A runtime name only our recipe of that name provides keeps the two packages apart.
                sibling = ours.get(f['recipe'])
                if f['recipe'] in own and sibling and (r['rdepends'] & (sibling['rprovides'] - theirs)):
                    continue
                if (r['rel'], path, f['package']) in reported:
                    continue
                reported.add((r['rel'], path, f['package']))
                fail(r['rel'], 'ships %s, which meta-virtualization\'s %s also ships (%s, %s): add RCONFLICTS or '
                     'keep the packages apart' % (path, f['package'], f['kind'], f['where']))


for check in (check_units, check_unit_install, check_file_uris, check_distro_features, check_kernel_gate,
              check_node_tools, check_go_cgo_pkgconfig, check_python, check_patches, check_ci_apt, check_coexistence):
    check()

if failures:
    print('\n'.join(failures), file=sys.stderr)
    sys.exit(1)
print('layer checks: all passed')
