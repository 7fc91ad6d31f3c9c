#!/usr/bin/env python3
"""The k3s recipe's Python, for real: BitBake's parser reads recipes-containers/k3s/k3s_git.bb with local.conf-style
settings (its anonymous Python runs lib/k3s_config's checks), and its do_install postfunc writes the units and
config files into ${D}. Run by .ci/test.d/61-k3s-recipe-python.sh (python3 -m unittest).

What is not real: OE-Core's classes (empty stand-ins, see bbinstall.py); the do_install shell part is not run here
(it installs the k3s binary; the systemd suite runs it).
"""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbinstall  # noqa: E402  (sets up bb and the layer's lib/ on sys.path)
import bbtest  # noqa: E402
import bb  # noqa: E402
import bb.build  # noqa: E402

RECIPE = os.path.join(bbinstall.LAYER, "recipes-containers/k3s/k3s_git.bb")
FILES = os.path.join(bbinstall.LAYER, "recipes-containers/k3s/files")


_read = bbtest.read


class K3sRecipe(bbtest.BitBakeCase):
    default_recipe = RECIPE

    def install(self, d):
        bbinstall.run_install_postfuncs_only(d, FILES)
        return d.getVar("D")

    def test_layer_conf_registers_the_knobs_for_task_signatures(self):
        """conf/layer.conf's addpylib, through BitBake's parser: the knobs module's functions, and the variables
        they read, enter the code-dependency table task signatures are computed from."""
        import bb.codeparser
        d = bb.data.init()
        d.setVar("LAYERDIR", bbinstall.LAYER)
        d.setVar("BBPATH", bbinstall.LAYER)
        bb.parse.handle(os.path.join(bbinstall.LAYER, "conf/layer.conf"), d, True, baseconfig=True)
        deps = bb.codeparser.modulecode_deps
        self.assertIn("k3s_config.knobs.install", deps)
        for var in ("K3S_EXTRA_CONFIG", "K3S_AGENT_EXTRA_CONFIG", "K3S_CLUSTER_CIDR", "K3S_SERVER_CONFIG_DROPIN_DIR"):
            self.assertIn(var, deps["k3s_config.knobs.role_config"][0])
        for var in ("K3S_SERVER_FLAGS", "K3S_AGENT_FLAGS"):
            self.assertIn(var, deps["k3s_config.knobs.flags"][0])
        for var in ("K3S_SERVER_CONFIG", "K3S_AGENT_CONFIG", "K3S_CLEANUP_ON_STOP", "D"):
            self.assertIn(var, deps["k3s_config.knobs.install"][0])
        self.assertIn("K3S_CNI_BIN_DIR", deps["k3s_config.knobs.substitute"][0])
        self.assertIn("k3s_config.knobs.role_config", deps["k3s_config.knobs.install"][1])

    # --- parse-time checks --------------------------------------------------------------------------------------

    def test_defaults_parse_and_render_server_and_agent_configs(self):
        d = self.parse()
        dest = self.install(d)
        server = _read(dest + "/etc/rancher/k3s/config.yaml")
        agent = _read(dest + "/etc/rancher/k3s/agent.yaml")
        self.assertIn('cluster-cidr: "10.42.0.0/16"\n', server)
        self.assertIn('disable:\n  - "traefik"\n', server)
        # No server key reaches the agent's config; the only layer key is the per-device identity (K3S_WITH_NODE_ID).
        self.assertEqual(re.findall(r"(?m)^([a-z][a-z0-9-]*):", agent), ["with-node-id"])
        unit = _read(dest + "/usr/lib/systemd/system/k3s-agent.service")
        self.assertIn("Environment=K3S_CONFIG_FILE=/etc/rancher/k3s/agent.yaml\n", unit)
        self.assertNotRegex(unit, r"@[A-Z_]+@")
        self.assertTrue(os.path.exists(dest + "/usr/lib/systemd/system/k3s.service.d/50-cleanup-on-stop.conf"))

    def test_cidrs(self):
        self.refused(["K3S_CLUSTER_CIDR", "10.42.0.1/16", "host bits zero"], K3S_CLUSTER_CIDR="10.42.0.1/16")
        self.refused(["K3S_SERVICE_CIDR", "banana"], K3S_SERVICE_CIDR="banana")
        self.refused(["K3S_CLUSTER_CIDR", "more than one IPv4"], K3S_CLUSTER_CIDR="10.42.0.0/16,10.44.0.0/16")
        self.refused(["overlap"], K3S_CLUSTER_CIDR="10.0.0.0/8", K3S_SERVICE_CIDR="10.43.0.0/16")
        d = self.parse(K3S_CLUSTER_CIDR="10.42.0.0/16,fd00:42::/56", K3S_SERVICE_CIDR="10.43.0.0/16,fd00:43::/112")
        server = _read(self.install(d) + "/etc/rancher/k3s/config.yaml")
        self.assertIn('cluster-cidr: "10.42.0.0/16,fd00:42::/56"\n', server)

    def test_cni_bin_dir_and_go_tags(self):
        self.refused(["K3S_CNI_BIN_DIR", "absolute"], K3S_CNI_BIN_DIR="opt/cni/bin")
        self.refused(["K3S_CNI_BIN_DIR"], K3S_CNI_BIN_DIR="/opt/cni/bin:/evil")
        # It reaches the CNI recipes' install commands: no shell metacharacters.
        self.refused(["K3S_CNI_BIN_DIR"], K3S_CNI_BIN_DIR="/opt/cni/bin;id")
        self.refused(["K3S_CNI_BIN_DIR"], K3S_CNI_BIN_DIR="/opt/cni/$(id)")
        self.refused(["K3S_GO_TAGS is empty"], K3S_GO_TAGS="")
        self.refused(["K3S_GO_TAGS", "not a Go build tag"], K3S_GO_TAGS="ctrd $(reboot)")

    def test_other_knobs_keep_their_checks(self):
        self.refused(["K3S_FLANNEL_BACKEND", "udp"], K3S_FLANNEL_BACKEND="udp")
        self.refused(["K3S_DISABLE_COMPONENTS", "kubelet"], K3S_DISABLE_COMPONENTS="kubelet")
        self.refused(["K3S_KUBECONFIG_MODE"], K3S_KUBECONFIG_MODE="0999")

    # --- K3S_EXTRA_CONFIG: YAML, keys per role, no shell ----------------------------------------------------------

    def test_extra_config_is_data_never_shell(self):
        marker = os.path.join(self.tmp.name, "ran")
        extra = ('tls-san:\\n  - "a b"\\n  - \'it\'\'s\'\\nnode-label+: ["x=$HOME", "y=`touch %s`"]\\n'
                 'kubelet-arg: "max-pods=$(reboot) ; echo"\\nnode-name: plain-name # comment' % marker)
        d = self.parse(K3S_EXTRA_CONFIG=extra)
        server = _read(self.install(d) + "/etc/rancher/k3s/config.yaml")
        self.assertFalse(os.path.exists(marker), "a backtick ran on the build host")
        self.assertIn('tls-san:\n  - "a b"\n  - "it\'s"\n', server)
        self.assertIn('node-label+:\n  - "x=$HOME"\n  - "y=`touch %s`"\n' % marker, server)
        self.assertIn('kubelet-arg: "max-pods=$(reboot) ; echo"\n', server)
        self.assertIn('node-name: "plain-name"\n', server)

    def test_extra_config_keys_are_checked_against_the_role(self):
        self.refused(["K3S_AGENT_EXTRA_CONFIG line 1", '"disable" is not a flag of `k3s agent`', "server only",
                      "flag provided but not defined: -disable"], K3S_AGENT_EXTRA_CONFIG="disable: [traefik]")
        self.refused(["K3S_EXTRA_CONFIG line 2", '"no-such-flag"'], K3S_EXTRA_CONFIG="debug: true\\nno-such-flag: 1")
        self.refused(["K3S_EXTRA_CONFIG line 1", "K3S_FLANNEL_BACKEND"], K3S_EXTRA_CONFIG="flannel-backend: none")
        self.refused(["K3S_EXTRA_CONFIG line 1", "true or false"], K3S_EXTRA_CONFIG="debug: yes-please")
        self.refused(["K3S_EXTRA_CONFIG line 2", "already set on line 1"], K3S_EXTRA_CONFIG="v: 1\\nv: 2")
        self.refused(["K3S_EXTRA_CONFIG line 1", "needs quotes"], K3S_EXTRA_CONFIG="tls-san: {a: b}")
        self.refused(["K3S_AGENT_EXTRA_CONFIG line 1", "unterminated"], K3S_AGENT_EXTRA_CONFIG='node-label: "a')
        d = self.parse(K3S_AGENT_EXTRA_CONFIG="node-label:\\n  - role=edge\\nkubelet-arg: [a=b]")
        agent = _read(self.install(d) + "/etc/rancher/k3s/agent.yaml")
        self.assertIn('node-label:\n  - "role=edge"\nkubelet-arg:\n  - "a=b"\n', agent)

    def test_each_role_package_ships_its_own_config(self):
        """The real do_install (shell and postfunc), then FILES: the agent package never carries the server's
        config, and every installed file is shipped by some package."""
        d = self.parse()
        os.makedirs(os.path.join(d.getVar("B"), "bin"), exist_ok=True)
        for name in ("k3s", "containerd-shim-runc-v2"):
            with open(os.path.join(d.getVar("B"), "bin", name), "w") as f:
                f.write("#!/bin/sh\n")
        bbinstall.run_install(d, FILES)
        split = bbinstall.packages(d)
        self.assertIn("/etc/rancher/k3s/config.yaml", split["k3s-server"])
        self.assertIn("/etc/rancher/k3s/agent.yaml", split["k3s-agent"])
        self.assertIn("/usr/lib/systemd/system/k3s.service", split["k3s-server"])
        self.assertIn("/usr/lib/systemd/system/k3s-agent.service.d/50-cleanup-on-stop.conf", split["k3s-agent"])
        self.assertFalse([p for p in split["k3s-agent"] + split["k3s"] if p.startswith("/etc/rancher/k3s/config.yaml")
                          and not p.endswith(".d")], "the server's config outside k3s-server")
        self.assertEqual(d.getVar("CONFFILES:k3s-agent"), "/etc/rancher/k3s/agent.yaml")
        self.assertEqual(d.getVar("CONFFILES:k3s-server"), "/etc/rancher/k3s/config.yaml")

    def test_rendered_configs_are_yaml_k3s_reads_back(self):
        """The stand-in k3s (k3s's own merge rules) reads the rendered server config back to the same flags."""
        standin = os.environ.get("K3S_STANDIN")
        if not standin:
            self.skipTest("K3S_STANDIN (the built k3s-standin) not given")
        extra = 'tls-san: ["a b", "c\\"d"]\\nnode-label: "q=\'1\'"'
        d = self.parse(K3S_EXTRA_CONFIG=extra)
        cfg = self.install(d) + "/etc/rancher/k3s/config.yaml"
        out = subprocess.run([standin, "print-flags", "server"], env=dict(os.environ, K3S_CONFIG_FILE=cfg),
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('--tls-san=a b\n--tls-san=c"d\n--node-label=q=\'1\'\n', out.stdout)


if __name__ == "__main__":
    unittest.main()
