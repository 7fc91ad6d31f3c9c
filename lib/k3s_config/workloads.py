# SPDX-License-Identifier: MIT
"""Baked workloads (classes/k3s_workloads.bbclass): what a user's recipe ships for k3s to find on first start.

- ``K3S_MANIFESTS``: manifest files of the recipe's sources (UNPACKDIR) → the server's auto-deploy directory
  (``K3S_SERVER_MANIFESTS_DIR``); HelmChart resources are manifests too.
- ``K3S_CHARTS``: Helm chart archives (``.tgz``) → ``K3S_SERVER_STATIC_CHARTS_DIR``, served by the server at
  ``https://<server>:6443/static/charts/<name>`` for HelmChart ``chart:`` URLs.
- ``K3S_IMAGE_ARCHIVES``: container image archives → ``K3S_AGENT_IMAGES_DIR`` (imported on start): file names of
  the recipe's sources, or ``deploy:<name>`` from DEPLOY_DIR_IMAGE, built by the recipes named in
  ``K3S_IMAGE_ARCHIVE_RECIPES`` (their do_image_complete runs first).
- ``K3S_REGISTRY_MIRRORS`` (``registry=endpoint[,endpoint]`` words) and ``K3S_REGISTRY_CONFIGS`` (registry host
  names) with varflags ``K3S_REGISTRY_TLS[host]`` (the flag is the host with ``:`` as ``_``: ``ca_file=/path cert_file=/path key_file=/path
  insecure_skip_verify=true|false``: paths on the target) and ``K3S_REGISTRY_AUTH[host]`` (the name of a source
  file holding ``username:``/``password:`` or ``auth:``/``identitytoken:`` lines, so no secret is a BitBake
  value that ``bitbake -e`` prints) → ``K3S_REGISTRIES_FILE`` (0600 when it holds credentials).

Everything is validated at parse time (``validate``) and written from Python (``install``): names never reach a
shell line, values reach registries.yaml as quoted YAML scalars.
"""

import os
import re

from k3s_config.knobs import KnobError, yaml_str, _write

_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._+-]*')
IMAGE_SUFFIXES = ('.tar', '.tar.gz', '.tgz', '.tar.zst', '.tar.bz2', '.tar.lz4')
_HOST = re.compile(r'(\*|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?)')
_ENDPOINT = re.compile(r'https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?')
TLS_KEYS = ('ca_file', 'cert_file', 'key_file', 'insecure_skip_verify')
AUTH_KEYS = ('username', 'password', 'auth', 'identitytoken')


def _names(var, value, suffixes, what):
    out = []
    for item in (value or '').split():
        name = item[len('deploy:'):] if var == 'K3S_IMAGE_ARCHIVES' and item.startswith('deploy:') else item
        if not _NAME.fullmatch(name) or not name.endswith(suffixes):
            raise KnobError('%s: "%s" is not %s (a file name of letters, digits and "._+-" ending in %s)'
                            % (var, item, what, ' '.join(suffixes)))
        out.append(item)
    return out


def mirrors(d):
    """K3S_REGISTRY_MIRRORS → [(registry, [endpoints])]."""
    out = []
    for word in (d.getVar('K3S_REGISTRY_MIRRORS') or '').split():
        registry, sep, endpoints = word.partition('=')
        eps = endpoints.split(',') if sep else []
        if not _HOST.fullmatch(registry) or not eps or not all(_ENDPOINT.fullmatch(e) for e in eps):
            raise KnobError('K3S_REGISTRY_MIRRORS: "%s" is not valid; expected registry=endpoint[,endpoint] such as '
                            'docker.io=https://mirror.local:5000 (endpoints http:// or https:// URLs)' % word)
        out.append((registry, eps))
    return out


def flag_name(host):
    """The varflag of a registry host: BitBake flag names cannot hold ':', host names cannot hold '_'."""
    return host.replace(':', '_')


def tls(d, host):
    """K3S_REGISTRY_TLS[host] → [(key, value)]."""
    out = []
    var = 'K3S_REGISTRY_TLS[%s]' % flag_name(host)
    for word in (d.getVarFlag('K3S_REGISTRY_TLS', flag_name(host)) or '').split():
        key, _, value = word.partition('=')
        if key not in TLS_KEYS:
            raise KnobError('%s: "%s" is not one of %s' % (var, key, ' '.join(TLS_KEYS)))
        if key == 'insecure_skip_verify':
            if value not in ('true', 'false'):
                raise KnobError('%s: insecure_skip_verify takes true or false' % var)
        elif not re.fullmatch(r'/[A-Za-z0-9._+/-]+', value) or os.path.normpath(value) != value:
            raise KnobError('%s: %s = "%s" is not an absolute file path on the target' % (var, key, value))
        out.append((key, value))
    return out


def auth_file(d, host):
    name = d.getVarFlag('K3S_REGISTRY_AUTH', flag_name(host)) or ''
    if name and not _NAME.fullmatch(name):
        raise KnobError('K3S_REGISTRY_AUTH[%s] = "%s": expected the name of a file in the recipe\'s sources'
                        % (flag_name(host), name))
    return name


def configs(d):
    hosts = (d.getVar('K3S_REGISTRY_CONFIGS') or '').split()
    for host in hosts:
        if not _HOST.fullmatch(host) or host == '*':
            raise KnobError('K3S_REGISTRY_CONFIGS: "%s" is not a registry host[:port]' % host)
        tls(d, host)
        auth_file(d, host)
    for flag in ('K3S_REGISTRY_TLS', 'K3S_REGISTRY_AUTH'):
        for name in (d.getVarFlags(flag) or {}):
            if name not in [flag_name(h) for h in hosts] and not name.startswith('_') and name not in ('doc', 'type'):
                raise KnobError('%s[%s] is set, but %s is not in K3S_REGISTRY_CONFIGS (the flag is the host with ":" '
                                'written as "_")' % (flag, name, name.replace('_', ':')))
    return hosts


def validate(d):
    _names('K3S_MANIFESTS', d.getVar('K3S_MANIFESTS'), ('.yaml', '.yml', '.json'), 'a manifest')
    _names('K3S_CHARTS', d.getVar('K3S_CHARTS'), ('.tgz',), 'a Helm chart archive')
    _names('K3S_IMAGE_ARCHIVES', d.getVar('K3S_IMAGE_ARCHIVES'), IMAGE_SUFFIXES, 'an image archive')
    for r in (d.getVar('K3S_IMAGE_ARCHIVE_RECIPES') or '').split():
        if not re.fullmatch(r'[a-z0-9][a-z0-9.+-]*', r):
            raise KnobError('K3S_IMAGE_ARCHIVE_RECIPES: "%s" is not a recipe name' % r)
    mirrors(d)
    configs(d)


def _auth_lines(path, host):
    """The `key: value` lines of an auth file, checked (keys AUTH_KEYS, one line each)."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        raise KnobError('K3S_REGISTRY_AUTH[%s]: cannot read %s: %s' % (flag_name(host), path, e.strerror))
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        key, sep, value = line.partition(':')
        if not sep or key not in AUTH_KEYS or not value.strip():
            raise KnobError('%s line %d: expected "key: value" with key one of %s' % (path, n, ' '.join(AUTH_KEYS)))
        out.append((key, value.strip()))
    return out


def registries_yaml(d):
    """The text of registries.yaml and whether it holds credentials (None when nothing is configured)."""
    ms, hosts = mirrors(d), configs(d)
    if not ms and not hosts:
        return None, False
    lines = ['# Written by meta-k3s-rs (classes/k3s_workloads.bbclass) from K3S_REGISTRY_* of %s.' % d.getVar('PN')]
    if ms:
        lines.append('mirrors:')
        for registry, eps in ms:
            lines.append('  %s:' % yaml_str(registry))
            lines.append('    endpoint:')
            lines.extend('      - %s' % yaml_str(e) for e in eps)
    secret = False
    if hosts:
        lines.append('configs:')
        for host in hosts:
            name, t = auth_file(d, host), tls(d, host)
            if not name and not t:
                lines.append('  %s: {}' % yaml_str(host))
                continue
            lines.append('  %s:' % yaml_str(host))
            if name:
                secret = True
                lines.append('    auth:')
                lines.extend('      %s: %s' % (k, yaml_str(v))
                             for k, v in _auth_lines(os.path.join(d.getVar('UNPACKDIR'), name), host))
            if t:
                lines.append('    tls:')
                lines.extend('      %s: %s' % (k, v if k == 'insecure_skip_verify' else yaml_str(v)) for k, v in t)
    return ''.join(line + '\n' for line in lines), secret


def _copy(src, dst):
    with open(src, 'rb') as f:
        data = f.read()
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = dst + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dst)


def install(d):
    dest, src = d.getVar('D'), d.getVar('UNPACKDIR')
    for var, target in (('K3S_MANIFESTS', 'K3S_SERVER_MANIFESTS_DIR'), ('K3S_CHARTS', 'K3S_SERVER_STATIC_CHARTS_DIR'),
                        ('K3S_IMAGE_ARCHIVES', 'K3S_AGENT_IMAGES_DIR')):
        for item in (d.getVar(var) or '').split():
            if item.startswith('deploy:'):
                name, origin = item[len('deploy:'):], os.path.join(d.getVar('DEPLOY_DIR_IMAGE'), item[len('deploy:'):])
            else:
                name, origin = item, os.path.join(src, item)
            if not os.path.isfile(origin):
                raise KnobError('%s: %s not found (%s)' % (var, item, origin))
            _copy(origin, dest + d.getVar(target) + '/' + name)
    # The same mode as the k3s recipe gives the auto-deploy directory (k3s's own manifests are there too).
    if d.getVar('K3S_MANIFESTS'):
        os.chmod(dest + d.getVar('K3S_SERVER_MANIFESTS_DIR'), 0o700)
    text, secret = registries_yaml(d)
    if text is not None:
        # Credentials: readable by root only (k3s runs as root).
        _write(dest + d.getVar('K3S_REGISTRIES_FILE'), text, 0o600 if secret else 0o644)
