#!/usr/bin/env python3
"""The kas files under kas/ checked by kas itself (PyPI ``kas``), offline.

Each file is loaded with kas's own loader, ``kas.includehandler.ConfigFile.load``, which validates it against
kas's JSON schema (``schema-kas.json``) and its format version; each machine file is then resolved with kas's
``IncludeHandler`` (the include mechanism ``kas build`` uses) and the merged configuration is checked against
k3s-spec.yaml: every repository at the commit and branch the spec's ``layers:`` pins, the machine, this layer,
and the ``require`` line in local_conf_header.

Usage: kas_validate.py LAYER_ROOT [KAS_FILE ...]   (default: every kas/*.yml)
Exit 1 with the reasons when anything is wrong.
"""

import glob
import logging
import os
import sys

import types

import yaml
from kas.context import create_global_context
from kas.includehandler import ConfigFile, IncludeHandler

REQUIRE = "require conf/distro/include/k3s.inc"
# spec key -> kas repo id (the upstream repository names, as k3s-setup's Repo::dir_name)
REPOS = {"oe-core": "openembedded-core", "bitbake": "bitbake", "meta-openembedded": "meta-openembedded"}


def main():
    logging.basicConfig(level=logging.ERROR, format="kas: %(message)s")
    # IncludeHandler asks git (through kas's context) for each file's repository root, as `kas build` does.
    create_global_context(types.SimpleNamespace(update=False, force_checkout=False, no_color=True))
    root = os.path.abspath(sys.argv[1])
    files = sys.argv[2:] or sorted(glob.glob(os.path.join(root, "kas", "*.yml")))
    with open(os.path.join(root, "k3s-spec.yaml"), encoding="utf-8") as f:
        layers = yaml.safe_load(f)["layers"]
    errors = []
    machines = 0
    for path in files:
        rel = os.path.relpath(path, root)
        try:
            cfg = ConfigFile.load(path).config
        except Exception as e:  # kas's LoadConfigException and YAML errors
            errors.append(f"{rel}: kas refuses it: {e}")
            continue
        for repo_id, repo in (cfg.get("repos") or {}).items():
            key = next((k for k, v in REPOS.items() if v == repo_id), None)
            if repo is None or key is None:
                continue
            pin = layers[key]
            for field, want in (("url", pin["git"]), ("commit", pin["commit"]), ("branch", str(pin["branch"]))):
                if str(repo.get(field)) != want:
                    errors.append(f"{rel}: repos.{repo_id}.{field} is {repo.get(field)!r}, the spec pins {want!r}")
        if "machine" not in cfg:
            continue
        machines += 1
        try:
            merged, missing = IncludeHandler([path]).get_config()
        except Exception as e:  # an included file kas refuses
            errors.append(f"{rel}: kas cannot resolve its includes: {e}")
            continue
        if missing:
            errors.append(f"{rel}: includes need repositories {missing}")
        if merged.get("machine") != os.path.splitext(os.path.basename(path))[0]:
            errors.append(f"{rel}: machine is {merged.get('machine')!r}, not the file's name")
        repos = merged.get("repos", {})
        for needed in ("meta-k3s-rs", "openembedded-core", "bitbake"):
            if needed not in repos:
                errors.append(f"{rel}: merged configuration has no repository {needed}")
        headers = "\n".join((merged.get("local_conf_header") or {}).values())
        if REQUIRE not in headers.splitlines():
            errors.append(f"{rel}: merged local_conf_header lacks {REQUIRE!r}")
        if merged.get("target") is None:
            errors.append(f"{rel}: no target")
    if machines == 0 and not sys.argv[2:]:
        errors.append("no machine file found under kas/")
    for e in errors:
        print(f"kas_validate: {e}", file=sys.stderr)
    print(f"kas_validate: {len(files)} kas files, {machines} machine files, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
