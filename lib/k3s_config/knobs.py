# SPDX-License-Identifier: MIT
"""The k3s recipe's knobs: checked at parse time, written into units and per-role config files at do_install.

Everything here reads BitBake variables with ``d.getVar`` and writes files from Python, so no value reaches a shell
line: a quote, ``$x``, a backtick or a space in ``K3S_EXTRA_CONFIG`` is data, never code or a word split.

Config per role (k3s-io/k3s#6565): ``k3s server`` drops config keys it does not define, ``k3s agent`` refuses them
(``flag provided but not defined``), and an image may hold both roles. So the server's settings go to
``K3S_SERVER_CONFIG`` (k3s's default config.yaml, package ${PN}-server) and the agent's to ``K3S_AGENT_CONFIG``
(package ${PN}-agent; k3s-agent.service points ``K3S_CONFIG_FILE`` at it). Every key is checked against its role's
flags from ``k3s-config-facts.inc`` (rendered by ``k3s-bake gen`` from k3s_model::flags).

``K3S_EXTRA_CONFIG`` (server) and ``K3S_AGENT_EXTRA_CONFIG`` (agent) take the subset of YAML k3s config files use:
top-level ``key: value`` / ``key+: value`` lines whose value is a plain, 'single' or "double" quoted scalar, a flow
list ``[a, "b"]``, or a block list of ``- item`` lines below the key; ``#`` comments; lines separated by newlines or
by the two characters ``\\n`` (BitBake values are one line). Anything else is an error naming the variable and line.
"""

import ipaddress
import os
import re

# The unit files' placeholders and the variables do_install replaces them with; layer-checks.py reads this too.
UNIT_SUBSTITUTIONS = {
    'BINDIR': 'bindir',
    'BASE_SBINDIR': 'base_sbindir',
    'CNI_BIN_DIR': 'K3S_CNI_BIN_DIR',
    'AGENT_CONFIG': 'K3S_AGENT_CONFIG',
}
UNITS = ('k3s.service', 'k3s-agent.service')
CLEANUP_DROPIN = 'cleanup-on-stop.conf'

HEADER = ("# Written by meta-k3s-rs from BitBake variables (README: Knobs) for k3s %s.\n"
          "# Add settings as %s/*.yaml instead of editing this file.\n")

GO_BOOL = ('1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False')


class KnobError(Exception):
    """A knob's value is not valid; the message names the variable and what is expected."""


# Every d.getVar below names its variable literally: BitBake's code parser records those names as the task's
# variable dependencies (a computed name would not re-run do_install when that variable changes).

def flags(d, role):
    """{flag name or alias: kind} of `k3s ROLE` (k3s-config-facts.inc)."""
    value = (d.getVar('K3S_SERVER_FLAGS') if role == 'server' else d.getVar('K3S_AGENT_FLAGS')) or ''
    out = {}
    for item in value.split():
        name, _, kind = item.partition('=')
        out[name] = kind
    if not out:
        raise KnobError('K3S_%s_FLAGS is empty: the recipe must require k3s-config-facts.inc' % role.upper())
    return out


# --- plain knobs -------------------------------------------------------------------------------------------------

def networks(var, value):
    """K3S_CLUSTER_CIDR / K3S_SERVICE_CIDR: comma-separated networks, at most one IPv4 and one IPv6 (dual-stack)."""
    nets = []
    for part in (value or '').split(','):
        part = part.strip()
        try:
            net = ipaddress.ip_network(part, strict=True)
        except ValueError:
            raise KnobError('%s = "%s": "%s" is not a network; expected CIDRs such as 10.42.0.0/16 or '
                            '10.42.0.0/16,fd00:42::/56 (host bits zero, at most one IPv4 and one IPv6)'
                            % (var, value, part))
        if any(n.version == net.version for n in nets):
            raise KnobError('%s = "%s": more than one IPv%d network; k3s takes at most one per address family'
                            % (var, value, net.version))
        nets.append(net)
    return nets


def check_cidrs(d):
    cluster = networks('K3S_CLUSTER_CIDR', d.getVar('K3S_CLUSTER_CIDR'))
    service = networks('K3S_SERVICE_CIDR', d.getVar('K3S_SERVICE_CIDR'))
    for c in cluster:
        for s in service:
            if c.version == s.version and c.overlaps(s):
                raise KnobError('K3S_CLUSTER_CIDR %s and K3S_SERVICE_CIDR %s overlap; pod and service networks '
                                'must be disjoint' % (c, s))


def check_cni_bin_dir(d):
    value = d.getVar('K3S_CNI_BIN_DIR') or ''
    # The value reaches unit files (PATH=) and the CNI recipes' do_install shell: letters, digits and ._+-/ only.
    if (not re.fullmatch(r'/[A-Za-z0-9._+/-]*', value) or os.path.normpath(value) != value):
        raise KnobError('K3S_CNI_BIN_DIR = "%s": expected an absolute, normalised directory of letters, digits and '
                        '"._+-/" (it goes first on the units\' PATH and into install commands), e.g. /opt/cni/bin'
                        % value)


def check_go_tags(d):
    value = d.getVar('K3S_GO_TAGS') or ''
    tags = value.split()
    if not tags:
        raise KnobError('K3S_GO_TAGS is empty; expected Go build tags such as "ctrd netcgo osusergo providerless '
                        'seccomp" (k3s without ctrd has no embedded containerd)')
    for t in tags:
        if not re.fullmatch(r'[A-Za-z0-9_.]+', t):
            raise KnobError('K3S_GO_TAGS: "%s" is not a Go build tag (letters, digits, "_" and ".")' % t)


def check_kubeconfig_mode(d):
    mode = d.getVar('K3S_KUBECONFIG_MODE') or ''
    if len(mode) not in (3, 4) or any(ch not in '01234567' for ch in mode):
        raise KnobError('K3S_KUBECONFIG_MODE = "%s" is not valid; expected an octal file mode such as 0600' % mode)


def check_choices(d):
    backend = d.getVar('K3S_FLANNEL_BACKEND')
    valid = (d.getVar('K3S_VALID_FLANNEL_BACKENDS') or '').split()
    if backend not in valid:
        raise KnobError('K3S_FLANNEL_BACKEND = "%s" is not valid; expected %s' % (backend, ' | '.join(valid)))
    components = (d.getVar('K3S_VALID_COMPONENTS') or '').split()
    for c in (d.getVar('K3S_DISABLE_COMPONENTS') or '').split():
        if c not in components:
            raise KnobError('K3S_DISABLE_COMPONENTS: "%s" is not valid; expected a list of %s'
                            % (c, ' '.join(components)))
    for var in ('K3S_DEPLOY_TRAEFIK', 'K3S_CLEANUP_ON_STOP'):
        if d.getVar(var) not in ('0', '1'):
            raise KnobError('%s = "%s" is not valid; expected "0" or "1"' % (var, d.getVar(var)))


def disabled_components(d):
    disabled = (d.getVar('K3S_DISABLE_COMPONENTS') or '').split()
    if d.getVar('K3S_DEPLOY_TRAEFIK') != '1' and 'traefik' not in disabled:
        disabled.insert(0, 'traefik')
    return disabled


# --- the YAML subset of K3S_EXTRA_CONFIG -------------------------------------------------------------------------

_KEY = re.compile(r'([a-z0-9][a-z0-9-]*)(\+?):(?:\s+(.*))?$')
_ESCAPES = {'\\': '\\', '"': '"', '/': '/', 'n': '\n', 't': '\t', 'r': '\r', '0': '\0', ' ': ' '}


def _scalar(var, lineno, text):
    """One scalar: 'single', "double" (YAML escapes) or plain (up to a ' #' comment). Returns (value, rest)."""
    def bad(why):
        return KnobError('%s line %d: %s' % (var, lineno, why))
    if text.startswith("'"):
        out, i = [], 1
        while True:
            j = text.find("'", i)
            if j < 0:
                raise bad("unterminated 'single-quoted' value")
            out.append(text[i:j])
            if text[j + 1:j + 2] == "'":
                out.append("'")
                i = j + 2
                continue
            return ''.join(out), text[j + 1:]
    if text.startswith('"'):
        out, i = [], 1
        while i < len(text):
            c = text[i]
            if c == '"':
                return ''.join(out), text[i + 1:]
            if c == '\\':
                e = text[i + 1:i + 2]
                if e in _ESCAPES:
                    out.append(_ESCAPES[e])
                    i += 2
                    continue
                m = re.match(r'x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})', text[i + 1:])
                if m:
                    out.append(chr(int(m.group(1) or m.group(2), 16)))
                    i += 1 + len(m.group(0))
                    continue
                raise bad('unknown escape \\%s in a "double-quoted" value' % e)
            out.append(c)
            i += 1
        raise bad('unterminated "double-quoted" value')
    m = re.search(r'\s#', text)
    value = (text[:m.start()] if m else text).strip()
    if not value:
        raise bad('empty value')
    if value[0] in '&*!|>%@`{}[]' or value.startswith(('- ', '? ')) or ': ' in value or value.endswith(':'):
        raise bad('"%s" needs quotes (YAML would read it as something other than a plain string)' % value)
    return value, ''


def _tail_ok(var, lineno, rest):
    rest = rest.strip()
    if rest and not rest.startswith('#'):
        raise KnobError('%s line %d: unexpected "%s" after the value' % (var, lineno, rest))


def _flow_list(var, lineno, text):
    items, rest = [], text[1:].lstrip()
    if rest.startswith(']'):
        _tail_ok(var, lineno, rest[1:])
        return items
    while True:
        if rest.startswith(("'", '"')):
            item, rest = _scalar(var, lineno, rest)
        else:
            m = re.match(r'([^,\]\s\'"][^,\]]*)', rest)
            if not m:
                raise KnobError('%s line %d: expected a list item in [...]' % (var, lineno))
            item, rest = _scalar(var, lineno, m.group(1).strip())[0], rest[m.end():]
        items.append(item)
        rest = rest.lstrip()
        if rest.startswith(','):
            rest = rest[1:].lstrip()
            continue
        if rest.startswith(']'):
            _tail_ok(var, lineno, rest[1:])
            return items
        raise KnobError('%s line %d: expected "," or "]" in a [...] list' % (var, lineno))


def parse_extra(var, text):
    """K3S_EXTRA_CONFIG-style text → [(key, append, value or [items], line)] in order."""
    lines = (text or '').replace('\\n', '\n').split('\n')
    entries, seen = [], {}
    for lineno, line in enumerate(lines, 1):
        if any(ord(c) < 32 and c != '\t' for c in line) or '\t' in line:
            raise KnobError('%s line %d: tab or control character (YAML indents with spaces)' % (var, lineno))
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        if line.startswith(' '):
            if not stripped.startswith('- ') and stripped != '-':
                raise KnobError('%s line %d: "%s": only "- item" lines may be indented (below a "key:" line)'
                                % (var, lineno, stripped))
            if not entries or not isinstance(entries[-1][2], list) or entries[-1][4]:
                raise KnobError('%s line %d: a "- item" line must follow a "key:" line without a value'
                                % (var, lineno))
            value, rest = _scalar(var, lineno, stripped[1:].strip())
            _tail_ok(var, lineno, rest)
            entries[-1][2].append(value)
            continue
        m = _KEY.match(line)
        if not m:
            raise KnobError('%s line %d: "%s": expected "flag-name: value" (lower-case k3s flag names)'
                            % (var, lineno, line))
        key, append, value = m.group(1), m.group(2) == '+', (m.group(3) or '').strip()
        if key in seen:
            raise KnobError('%s line %d: %s is already set on line %d' % (var, lineno, key, seen[key]))
        seen[key] = lineno
        if not value or value.startswith('#'):
            entries.append([key, append, [], lineno, False])
        elif value.startswith('['):
            entries.append([key, append, _flow_list(var, lineno, value), lineno, True])
        else:
            scalar, rest = _scalar(var, lineno, value)
            _tail_ok(var, lineno, rest)
            entries.append([key, append, scalar, lineno, True])
    for e in entries:
        if isinstance(e[2], list) and not e[4] and not e[2]:
            raise KnobError('%s line %d: %s has no value (give one, or "- item" lines below it)'
                            % (var, e[3], e[0]))
    return [(k, a, v, n) for k, a, v, n, _ in entries]


def check_entries(var, role, entries, known, layer_keys):
    """Each key is a flag of `k3s ROLE`, with a value its kind takes, and not one a knob already writes."""
    for key, _append, value, lineno in entries:
        if key not in known:
            other = ' (a flag of k3s %s only)' % ('agent' if role == 'server' else 'server') \
                if key in known.get('__other__', ()) else ''
            raise KnobError('%s line %d: "%s" is not a flag of `k3s %s`%s; k3s %s would %s' % (
                var, lineno, key, role, other, role,
                'ignore it' if role == 'server' else 'refuse to start (flag provided but not defined: -%s)' % key))
        if key in layer_keys:
            raise KnobError('%s line %d: %s is written from %s; set that variable instead'
                            % (var, lineno, key, layer_keys[key]))
        kind = known[key]
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and kind != 'slice' and len(value) != 1:
            raise KnobError('%s line %d: %s takes one value, not a list' % (var, lineno, key))
        for v in values:
            if kind == 'bool' and v not in GO_BOOL:
                raise KnobError('%s line %d: %s takes true or false, not "%s"' % (var, lineno, key, v))
            if kind == 'int' and not re.fullmatch(r'-?[0-9]+', v):
                raise KnobError('%s line %d: %s takes a number, not "%s"' % (var, lineno, key, v))


# --- rendering ---------------------------------------------------------------------------------------------------

def yaml_str(s):
    """A YAML double-quoted scalar holding exactly `s`."""
    out = []
    for c in s:
        if c in '\\"':
            out.append('\\' + c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append('\\x%02x' % ord(c))
        else:
            out.append(c)
    return '"%s"' % ''.join(out)


def _render(entries):
    lines = []
    for key, append, value in entries:
        k = key + ('+' if append else '')
        if isinstance(value, list):
            lines.append('%s:' % k)
            lines.extend('  - %s' % yaml_str(v) for v in value)
        else:
            lines.append('%s: %s' % (k, yaml_str(value)))
    return lines


def role_config(d, role):
    """The text of ROLE's config file, every key checked against `k3s ROLE`'s flags."""
    known = dict(flags(d, role))
    other = flags(d, 'agent' if role == 'server' else 'server')
    known['__other__'] = set(other) - set(known)
    if role == 'server':
        layer = [
            ('write-kubeconfig-mode', 'K3S_KUBECONFIG_MODE', d.getVar('K3S_KUBECONFIG_MODE')),
            ('flannel-backend', 'K3S_FLANNEL_BACKEND', d.getVar('K3S_FLANNEL_BACKEND')),
            ('cluster-cidr', 'K3S_CLUSTER_CIDR', d.getVar('K3S_CLUSTER_CIDR')),
            ('service-cidr', 'K3S_SERVICE_CIDR', d.getVar('K3S_SERVICE_CIDR')),
        ] + identity_keys(d) + persistent_server_keys(d)
        disabled = disabled_components(d)
        if disabled:
            layer.append(('disable', 'K3S_DISABLE_COMPONENTS', disabled))
        extra_var, extra_text = 'K3S_EXTRA_CONFIG', d.getVar('K3S_EXTRA_CONFIG')
        dropin_dir = d.getVar('K3S_SERVER_CONFIG_DROPIN_DIR')
    else:
        layer = identity_keys(d)
        extra_var, extra_text = 'K3S_AGENT_EXTRA_CONFIG', d.getVar('K3S_AGENT_EXTRA_CONFIG')
        dropin_dir = d.getVar('K3S_AGENT_CONFIG_DROPIN_DIR')
    for key, var, _ in layer:
        if key not in known:
            raise KnobError('%s: the layer would write "%s", which `k3s %s` does not define' % (var, key, role))
    extra = parse_extra(extra_var, extra_text)
    check_entries(extra_var, role, extra, known, {k: v for k, v, _ in layer})
    text = HEADER % (role, dropin_dir)
    body = _render([(k, False, v) for k, _, v in layer])
    if extra:
        body.append('# %s' % extra_var)
        body += _render([(k, a, v) for k, a, v, _ in extra])
    return text + ''.join(line + '\n' for line in body)


def validate(d):
    """Parse-time checks of every knob (raises KnobError)."""
    check_choices(d)
    check_kubeconfig_mode(d)
    check_cidrs(d)
    check_cni_bin_dir(d)
    check_go_tags(d)
    check_offline(d)
    role_config(d, 'server')
    role_config(d, 'agent')


# --- do_install --------------------------------------------------------------------------------------------------

def substitute(d, name, text):
    values = {'bindir': d.getVar('bindir'), 'base_sbindir': d.getVar('base_sbindir'),
              'K3S_CNI_BIN_DIR': d.getVar('K3S_CNI_BIN_DIR'), 'K3S_AGENT_CONFIG': d.getVar('K3S_AGENT_CONFIG')}
    for placeholder, var in UNIT_SUBSTITUTIONS.items():
        text = text.replace('@%s@' % placeholder, values[var])
    left = re.findall(r'@[A-Z_]+@', text)
    if left:
        raise KnobError('%s: no substitution for %s (knobs.UNIT_SUBSTITUTIONS)' % (name, ' '.join(sorted(set(left)))))
    return text


def _write(path, text, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def install(d):
    """Units, the cleanup drop-ins and each role's config file into ${D}."""
    dest, src = d.getVar('D'), d.getVar('UNPACKDIR')
    unitdir = dest + d.getVar('systemd_system_unitdir')
    for unit in UNITS:
        with open(os.path.join(src, unit), encoding='utf-8') as f:
            _write(os.path.join(unitdir, unit), substitute(d, unit, f.read()), 0o644)
        if d.getVar('K3S_CLEANUP_ON_STOP') == '1':
            with open(os.path.join(src, CLEANUP_DROPIN), encoding='utf-8') as f:
                text = substitute(d, CLEANUP_DROPIN, f.read())
            _write(os.path.join(unitdir, unit + '.d', '50-cleanup-on-stop.conf'), text, 0o644)
    _write(dest + d.getVar('K3S_SERVER_CONFIG'), role_config(d, 'server'), 0o644)
    os.makedirs(dest + d.getVar('K3S_SERVER_CONFIG_DROPIN_DIR'), exist_ok=True)
    _write(dest + d.getVar('K3S_AGENT_CONFIG'), role_config(d, 'agent'), 0o644)
    os.makedirs(dest + d.getVar('K3S_AGENT_CONFIG_DROPIN_DIR'), exist_ok=True)
    install_offline(d)


# --- offline, flash-once nodes (README: Offline and flash-once nodes) ---------------------------------------------
#
# K3S_WITH_NODE_ID: every device flashed from one image has the same host name; k3s's server rejects a second node
# of the same name whose node password differs ("Node password rejected, duplicate hostname"). With `with-node-id`
# k3s appends an id it makes on first start (4 random bytes, /etc/rancher/node/id) to the node name, next to the
# node password it makes there too; neither is in the image, so each device has its own.
#
# K3S_DATA_PARTITION: the mount point of a persistent partition. k3s's state directories (K3S_PERSISTENT_STATE_DIRS)
# are bind-mounted from K3S_DATA_PARTITION/k3s-state/<name> by mount units the k3s units require
# (RequiresMountsFor=); k3s-data-prepare.service creates the sources and copies what the image ships under
# /var/lib/rancher (airgap archives, manifests, charts) onto the partition before the bind hides it.
#
# K3S_WAIT_FOR_TIME_SYNC: k3s is always ordered After=time-sync.target (no delay unless something holds the target
# back); "1" also pulls in systemd-time-wait-sync.service, so k3s starts only once systemd-timesyncd synchronised the
# clock (boards without an RTC that must join a server: certificates and k3s reject a clock in the past).

DATA_STATE_DIR = 'k3s-state'
DATA_PREPARE_UNIT = 'k3s-data-prepare.service'
DATA_PREPARE_SCRIPT = 'k3s-data-prepare'
DROPIN_TIME_SYNC = '30-time-sync.conf'
DROPIN_PERSISTENT = '40-persistent-state.conf'


def check_offline(d):
    """Parse-time checks of K3S_WITH_NODE_ID, K3S_WAIT_FOR_TIME_SYNC and K3S_DATA_PARTITION."""
    for var, value in (('K3S_WITH_NODE_ID', d.getVar('K3S_WITH_NODE_ID')),
                       ('K3S_WAIT_FOR_TIME_SYNC', d.getVar('K3S_WAIT_FOR_TIME_SYNC'))):
        if value not in ('0', '1'):
            raise KnobError('%s = "%s" is not valid; expected "0" or "1"' % (var, value))
    data = d.getVar('K3S_DATA_PARTITION') or ''
    if not data:
        return
    # It reaches unit files (What=, RequiresMountsFor=, ExecStart=) and mount unit names: a plain absolute path.
    if not re.fullmatch(r'/[A-Za-z0-9._+/-]*', data) or os.path.normpath(data) != data or data == '/':
        raise KnobError('K3S_DATA_PARTITION = "%s": expected the absolute, normalised mount point of a persistent '
                        'partition, of letters, digits and "._+-/", e.g. /data' % data)
    for state in state_dirs(d):
        if data == state or data.startswith(state + '/') or state.startswith(data + '/'):
            raise KnobError('K3S_DATA_PARTITION = "%s" overlaps the k3s state directory %s; mount the partition '
                            'elsewhere (e.g. /data)' % (data, state))


def state_dirs(d):
    return (d.getVar('K3S_PERSISTENT_STATE_DIRS') or '').split()


def identity_keys(d):
    """Config keys of every role for the per-device identity: [(key, variable, value)]."""
    return [('with-node-id', 'K3S_WITH_NODE_ID', 'true')] if d.getVar('K3S_WITH_NODE_ID') == '1' else []


def persistent_server_keys(d):
    """With a persistent partition the kubeconfig goes where the state is (/etc is read-only)."""
    if not d.getVar('K3S_DATA_PARTITION'):
        return []
    return [('write-kubeconfig', 'K3S_DATA_PARTITION', d.getVar('K3S_DATA_KUBECONFIG'))]


def unit_path_escape(path):
    """systemd-escape --path: the unit name of a mount point (mount units must be named after Where=)."""
    path = path.strip('/')
    out = []
    for i, c in enumerate(path):
        if c == '/':
            out.append('-')
        elif c.isalnum() and c.isascii() or c in ':_' or (c == '.' and i > 0):
            out.append(c)
        else:
            out.append('\\x%02x' % ord(c))
    return ''.join(out)


def data_source(d, state):
    """Where on the partition a state directory lives: K3S_DATA_PARTITION/k3s-state/<path, '/' as '-'>."""
    return '%s/%s/%s' % (d.getVar('K3S_DATA_PARTITION'), DATA_STATE_DIR, state.strip('/').replace('/', '-'))


def mount_units(d):
    """{unit name: text} of the bind mounts of every state directory, and the prepare service they require."""
    data = d.getVar('K3S_DATA_PARTITION')
    units = {}
    for state in state_dirs(d):
        units[unit_path_escape(state) + '.mount'] = (
            '# Written by meta-k3s-rs (K3S_DATA_PARTITION): k3s state %s on the persistent partition.\n'
            '[Unit]\n'
            'Description=k3s state %s on %s\n'
            'DefaultDependencies=no\n'
            'RequiresMountsFor=%s\n'
            'Requires=%s\n'
            # OE-Core's volatile-binds puts an overlay on tmpfs over /var/lib on a read-only root: bind over it,
            # not under it.
            'After=%s var-volatile-lib.service\n'
            'Before=local-fs.target umount.target\n'
            'Conflicts=umount.target\n'
            '\n'
            '[Mount]\n'
            'What=%s\n'
            'Where=%s\n'
            'Type=none\n'
            'Options=bind\n' % (state, state, data, data, DATA_PREPARE_UNIT, DATA_PREPARE_UNIT,
                                data_source(d, state), state))
    seed = ' '.join('%s=%s' % (state, data_source(d, state)) for state in state_dirs(d))
    units[DATA_PREPARE_UNIT] = (
        '# Written by meta-k3s-rs (K3S_DATA_PARTITION): the bind sources of k3s\'s state on the persistent\n'
        '# partition, and what the image ships below them copied there before the binds hide it.\n'
        '[Unit]\n'
        'Description=k3s state directories on %s\n'
        'DefaultDependencies=no\n'
        'RequiresMountsFor=%s\n'
        'After=var-volatile-lib.service\n'
        'Before=local-fs.target umount.target\n'
        'Conflicts=umount.target\n'
        '\n'
        '[Service]\n'
        'Type=oneshot\n'
        'RemainAfterExit=yes\n'
        'ExecStart=%s/k3s-rs/%s %s\n' % (data, data, d.getVar('libexecdir'), DATA_PREPARE_SCRIPT, seed))
    return units


def offline_dropins(d):
    """{file name: text} of the drop-ins every k3s unit gets for time sync and the persistent state."""
    dropins = {}
    text = '# Written by meta-k3s-rs (K3S_WAIT_FOR_TIME_SYNC): start once the clock is sane.\n[Unit]\n'
    if d.getVar('K3S_WAIT_FOR_TIME_SYNC') == '1':
        text += 'Wants=time-sync.target systemd-time-wait-sync.service\n'
    text += 'After=time-sync.target\n'
    dropins[DROPIN_TIME_SYNC] = text
    if d.getVar('K3S_DATA_PARTITION'):
        dropins[DROPIN_PERSISTENT] = (
            '# Written by meta-k3s-rs (K3S_DATA_PARTITION): k3s\'s state on the persistent partition.\n'
            '[Unit]\nRequiresMountsFor=%s\n' % ' '.join(state_dirs(d)))
    return dropins


def install_offline(d):
    """The drop-ins, and with K3S_DATA_PARTITION the mount units, the prepare script and the mount points."""
    dest = d.getVar('D')
    unitdir = dest + d.getVar('systemd_system_unitdir')
    for unit in UNITS:
        for name, text in offline_dropins(d).items():
            _write(os.path.join(unitdir, unit + '.d', name), text, 0o644)
    if not d.getVar('K3S_DATA_PARTITION'):
        return
    for name, text in mount_units(d).items():
        _write(os.path.join(unitdir, name), text, 0o644)
    with open(os.path.join(d.getVar('UNPACKDIR'), DATA_PREPARE_SCRIPT), encoding='utf-8') as f:
        _write(dest + d.getVar('libexecdir') + '/k3s-rs/' + DATA_PREPARE_SCRIPT, f.read(), 0o755)
    # Mount points must exist in a read-only root (systemd cannot create them there), the partition's too; empty,
    # so no identity or state is in the image.
    for state in state_dirs(d) + [d.getVar('K3S_DATA_PARTITION')]:
        os.makedirs(dest + state, exist_ok=True)
