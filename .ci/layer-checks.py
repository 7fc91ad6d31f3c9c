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
    substituted = set(re.findall(r"-e 's#@([A-Z_]+)@#", recipe))
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
    cfg = read('recipes-kernel/linux/files/k3s.cfg')
    if not re.search(r'^CONFIG_NET_NS=y$', cfg, re.M) or 'kconf non-hardware k3s.cfg' not in read(
            'recipes-kernel/linux/files/k3s.scc'):
        fail('recipes-kernel/linux/files', 'fragment or .scc is not the generated one')


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


for check in (check_units, check_file_uris, check_distro_features, check_kernel_gate, check_node_tools,
              check_python, check_patches):
    check()

if failures:
    print('\n'.join(failures), file=sys.stderr)
    sys.exit(1)
print('layer checks: all passed')
