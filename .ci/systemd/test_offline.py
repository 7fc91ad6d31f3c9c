#!/usr/bin/env python3
"""Offline, flash-once nodes (issue 15) through BitBake's parser and fetcher: the airgap images recipe (parse-time
refusal when the k3s pin is not the commit its facts were checked for; BitBake's fetcher checking the archive's
sha256 through a file:// PREMIRROR holding a FABRICATED archive, since CI reaches no GitHub; do_install into the
directory k3s imports from), and the k3s recipe's offline knobs (K3S_WITH_NODE_ID, K3S_WAIT_FOR_TIME_SYNC,
K3S_DATA_PARTITION: config keys, drop-ins, mount units, packaging), and k3s-data-prepare run on a directory tree.
Run by .ci/test.d/61-k3s-recipe-python.sh.

What is not real: OE-Core's classes (empty stand-ins, see bbinstall.py); the archive's content (k3s never reads it
here: the systemd suite checks where it lands and that its sha256 is the one the recipe checked).
"""

import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbinstall  # noqa: E402
import bbtest  # noqa: E402
import bb  # noqa: E402
import bb.fetch2  # noqa: E402

LAYER = bbinstall.LAYER
K3S = os.path.join(LAYER, "recipes-containers/k3s/k3s_git.bb")
FILES = os.path.join(LAYER, "recipes-containers/k3s/files")
AIRGAP = os.path.join(LAYER, "recipes-containers/k3s-airgap-images/k3s-airgap-images_release.bb")
PREPARE = os.path.join(FILES, "k3s-data-prepare")
RELEASES = "https://github.com/k3s-io/k3s/releases/download/.*"


_read = bbtest.read


class Base(bbtest.BitBakeCase):
    default_recipe = K3S


class AirgapImages(Base):
    def airgap(self, **settings):
        settings.setdefault("TARGET_ARCH", "x86_64")
        return self.parse(AIRGAP, **settings)

    def mirror(self, d, data):
        """A file:// PREMIRROR holding DATA under the name BitBake looks for (the downloadfilename)."""
        mirror = os.path.join(self.tmp.name, "mirror-%d" % len(os.listdir(self.tmp.name)))
        os.makedirs(mirror)
        name = re.search(r"downloadfilename=([^;\s]+)", d.getVar("SRC_URI")).group(1)
        with open(os.path.join(mirror, name), "wb") as f:
            f.write(data)
        d.setVar("PREMIRRORS", "%s file://%s/" % (RELEASES, mirror))
        d.setVar("PERSISTENT_DIR", os.path.join(self.tmp.name, "persist"))
        return name

    def test_arch_from_target_arch_and_facts_in_src_uri(self):
        for target, arch, sha in (("x86_64", "amd64", "da6a3b2d"), ("aarch64", "arm64", "26a5528b"),
                                  ("arm", "arm", "9d1440d7")):
            d = self.airgap(TARGET_ARCH=target)
            self.assertIn("/v1.36.2%%2Bk3s1/k3s-airgap-images-%s.tar.zst;name=%s;" % (arch, arch), d.getVar("SRC_URI"))
            self.assertTrue(d.getVarFlag("SRC_URI", arch + ".sha256sum").startswith(sha))
            self.assertEqual(d.getVar("PV"), "1.36.2+k3s1")

    def test_skipped_when_the_k3s_pin_is_not_the_commit_the_facts_were_checked_for(self):
        self.assertIsNone(self.airgap().getVar("__SKIPPED"))
        # BitBake's parser keeps a SkipRecipe's reason in __SKIPPED (what `bitbake` prints for a skipped recipe).
        d = self.airgap(OVERRIDES="forcevariable", **{"K3S_SRCREV:forcevariable": "0" * 40})
        self.assertIn("were checked for k3s commit 2390b65e1ae38c786b150e6f4113b55d1c3a9492, but K3S_SRCREV is "
                      + "0" * 40, d.getVar("__SKIPPED") or "")

    def test_fetcher_refuses_an_archive_whose_sha256_is_not_the_recorded_one(self):
        d = self.airgap()
        data = b"fabricated airgap archive, not k3s's"
        name = self.mirror(d, data)
        mirror = d.getVar("PREMIRRORS").split("file://")[1].rstrip("/")
        self.capture.setLevel(logging.WARNING)
        # The mirror's copy fails the check; BitBake then wants the network, which is off.
        with self.assertRaises(bb.fetch2.BBFetchException):
            bb.fetch2.Fetch(d.getVar("SRC_URI").split(), d).download()
        text = "\n".join(self.capture.messages)
        self.assertIn("da6a3b2dbd55cc368d930078ae8814ed22eb9c92247f7b9b46bf073445ff55b3", text)
        self.assertIn(hashlib.sha256(data).hexdigest(), text)
        self.assertFalse(os.path.exists(os.path.join(d.getVar("DL_DIR"), name)), "the bad archive reached DL_DIR")
        self.assertFalse(os.path.exists(os.path.join(mirror, name)), "BitBake renames a mirror file that fails")

    def test_fetched_archive_installed_where_k3s_imports_images(self):
        data = b"fabricated airgap archive (stand-in for k3s-airgap-images-amd64.tar.zst)"
        d = self.airgap()
        # The fabricated archive's checksum takes the recorded one's place: what is tested is that BitBake checks
        # the flag and that do_install puts the checked file where k3s reads it.
        d.setVarFlag("SRC_URI", "amd64.sha256sum", hashlib.sha256(data).hexdigest())
        name = self.mirror(d, data)
        f = bb.fetch2.Fetch(d.getVar("SRC_URI").split(), d)
        f.download()
        os.makedirs(d.getVar("UNPACKDIR"), exist_ok=True)
        f.unpack(d.getVar("UNPACKDIR"))
        self.assertTrue(os.path.exists(os.path.join(d.getVar("UNPACKDIR"), name)))
        bbinstall.run_install(d, None)
        split = bbinstall.packages(d)
        path = "/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst"
        self.assertIn(path, split["k3s-airgap-images"])
        with open(d.getVar("D") + path, "rb") as fh:
            self.assertEqual(fh.read(), data)


class OfflineKnobs(Base):
    def install(self, d):
        bbinstall.run_install_postfuncs_only(d, FILES)
        return d.getVar("D")

    def test_with_node_id_on_by_default_for_both_roles(self):
        dest = self.install(self.parse())
        self.assertIn('with-node-id: "true"\n', _read(dest + "/etc/rancher/k3s/config.yaml"))
        self.assertIn('with-node-id: "true"\n', _read(dest + "/etc/rancher/k3s/agent.yaml"))
        # Nothing of the node's identity is in the image.
        self.assertFalse(os.path.exists(dest + "/etc/rancher/node"))
        dest = self.install(self.parse(K3S_WITH_NODE_ID="0"))
        self.assertNotIn("with-node-id", _read(dest + "/etc/rancher/k3s/config.yaml"))
        self.refused(['K3S_WITH_NODE_ID = "yes" is not valid; expected "0" or "1"'], K3S_WITH_NODE_ID="yes")
        self.refused(["K3S_EXTRA_CONFIG line 1: with-node-id is written from K3S_WITH_NODE_ID"],
                     K3S_EXTRA_CONFIG="with-node-id: false")

    def test_time_sync_ordering_and_wait(self):
        dest = self.install(self.parse())
        unitdir = dest + "/usr/lib/systemd/system"
        for unit in ("k3s.service", "k3s-agent.service"):
            text = _read("%s/%s.d/30-time-sync.conf" % (unitdir, unit))
            self.assertIn("After=time-sync.target\n", text)
            self.assertNotIn("Wants=", text)
        text = _read(self.install(self.parse(K3S_WAIT_FOR_TIME_SYNC="1"))
                     + "/usr/lib/systemd/system/k3s.service.d/30-time-sync.conf")
        self.assertIn("Wants=time-sync.target systemd-time-wait-sync.service\n", text)
        self.refused(['K3S_WAIT_FOR_TIME_SYNC = "2" is not valid'], K3S_WAIT_FOR_TIME_SYNC="2")

    def test_no_data_partition_no_mounts(self):
        dest = self.install(self.parse())
        self.assertFalse([n for n in os.listdir(dest + "/usr/lib/systemd/system") if n.endswith(".mount")])
        self.assertFalse(os.path.exists(dest + "/usr/lib/systemd/system/k3s.service.d/40-persistent-state.conf"))

    def test_data_partition_binds_every_state_dir(self):
        d = self.parse(K3S_DATA_PARTITION="/data")
        dest = self.install(d)
        unitdir = dest + "/usr/lib/systemd/system"
        want = {"var-lib-rancher.mount": "/var/lib/rancher", "etc-rancher-node.mount": "/etc/rancher/node",
                "var-lib-kubelet.mount": "/var/lib/kubelet", "var-lib-cni.mount": "/var/lib/cni"}
        self.assertEqual(sorted(n for n in os.listdir(unitdir) if n.endswith(".mount")), sorted(want))
        for unit, where in want.items():
            text = _read(os.path.join(unitdir, unit))
            self.assertIn("Where=%s\n" % where, text)
            self.assertIn("What=/data/k3s-state/%s\n" % where.strip("/").replace("/", "-"), text)
            self.assertIn("RequiresMountsFor=/data\n", text)
            self.assertIn("Requires=k3s-data-prepare.service\n", text)
            self.assertTrue(os.path.isdir(dest + where), "mount point %s in the image" % where)
            self.assertFalse(os.listdir(dest + where) if where != "/var/lib/rancher" else [], where)
        for unit in ("k3s.service", "k3s-agent.service"):
            text = _read("%s/%s.d/40-persistent-state.conf" % (unitdir, unit))
            self.assertIn("RequiresMountsFor=/var/lib/rancher /etc/rancher/node /var/lib/kubelet /var/lib/cni\n", text)
        prep = _read(unitdir + "/k3s-data-prepare.service")
        self.assertIn("ExecStart=/usr/libexec/k3s-rs/k3s-data-prepare /var/lib/rancher=/data/k3s-state/var-lib-rancher"
                      " /etc/rancher/node=/data/k3s-state/etc-rancher-node", prep)
        self.assertTrue(os.access(dest + "/usr/libexec/k3s-rs/k3s-data-prepare", os.X_OK))
        self.assertIn('write-kubeconfig: "/var/lib/rancher/k3s/k3s.yaml"\n', _read(dest + "/etc/rancher/k3s/config.yaml"))

    def test_data_partition_packaged(self):
        d = self.parse(K3S_DATA_PARTITION="/data")
        os.makedirs(os.path.join(d.getVar("B"), "bin"), exist_ok=True)
        for name in ("k3s", "containerd-shim-runc-v2"):
            with open(os.path.join(d.getVar("B"), "bin", name), "w") as f:
                f.write("#!/bin/sh\n")
        bbinstall.run_install(d, FILES)
        split = bbinstall.packages(d)  # an unshipped file is an error there
        for path in ("/usr/lib/systemd/system/var-lib-rancher.mount", "/usr/lib/systemd/system/k3s-data-prepare.service",
                     "/usr/libexec/k3s-rs/k3s-data-prepare", "/var/lib/kubelet", "/var/lib/cni", "/etc/rancher/node",
                     "/data"):
            self.assertIn(path, split["k3s"])

    def test_data_partition_values_refused(self):
        for bad in ("data", "/", "/data/../x", "/data;id", "/da ta"):
            self.refused(['K3S_DATA_PARTITION = "%s": expected the absolute, normalised mount point' % bad],
                         K3S_DATA_PARTITION=bad)
        self.refused(['K3S_DATA_PARTITION = "/var/lib" overlaps the k3s state directory /var/lib/rancher'],
                     K3S_DATA_PARTITION="/var/lib")
        self.refused(["overlaps the k3s state directory /var/lib/kubelet"], K3S_DATA_PARTITION="/var/lib/kubelet/x")


WORKLOAD_BB = """SUMMARY = "test workload"
LICENSE = "MIT"
inherit k3s_workloads
K3S_MANIFESTS = "hello.yaml helmchart.yaml"
K3S_CHARTS = "hello-0.1.0.tgz"
K3S_IMAGE_ARCHIVES = "hello-image.tar"
K3S_REGISTRY_MIRRORS = "docker.io=https://mirror.local:5000,https://backup.local registry.k8s.io=http://10.0.0.2:5000"
K3S_REGISTRY_CONFIGS = "mirror.local:5000"
K3S_REGISTRY_TLS[mirror.local_5000] = "ca_file=/etc/ssl/certs/mirror.pem insecure_skip_verify=false"
K3S_REGISTRY_AUTH[mirror.local_5000] = "reg-auth"
"""
WORKLOAD_FILES = {"hello.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n",
                  "helmchart.yaml": "apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata:\n  name: hello\n"
                                    "  namespace: kube-system\nspec:\n  chart: https://%{KUBERNETES_API}%/static/"
                                    "charts/hello-0.1.0.tgz\n",
                  "hello-0.1.0.tgz": "chart", "hello-image.tar": "image",
                  "reg-auth": "# test credentials\nusername: bob\npassword: 'p a\"ss'\n"}


def write_workload(top, bb_text=WORKLOAD_BB, files=WORKLOAD_FILES):
    """A user's recipe inheriting k3s_workloads, with its files/ (what the systemd suite installs too)."""
    os.makedirs(os.path.join(top, "files"), exist_ok=True)
    recipe = os.path.join(top, "hello-workload_1.0.bb")
    with open(recipe, "w") as f:
        f.write(bb_text)
    for name, text in files.items():
        with open(os.path.join(top, "files", name), "w") as f:
            f.write(text)
    return recipe


class Workloads(Base):
    def recipe(self, extra=""):
        return write_workload(os.path.join(self.tmp.name, "layer%d" % len(os.listdir(self.tmp.name))),
                              WORKLOAD_BB + extra)

    def test_files_land_where_k3s_reads_them(self):
        recipe = self.recipe()
        d = bbinstall.datastore(recipe, self.work(), {})
        bbinstall.run_install(d, os.path.join(os.path.dirname(recipe), "files"))
        dest = d.getVar("D")
        split = bbinstall.packages(d)["hello-workload"]
        for path in ("/var/lib/rancher/k3s/server/manifests/hello.yaml",
                     "/var/lib/rancher/k3s/server/manifests/helmchart.yaml",
                     "/var/lib/rancher/k3s/server/static/charts/hello-0.1.0.tgz",
                     "/var/lib/rancher/k3s/agent/images/hello-image.tar", "/etc/rancher/k3s/registries.yaml"):
            self.assertIn(path, split)
        reg = dest + "/etc/rancher/k3s/registries.yaml"
        self.assertEqual(os.stat(reg).st_mode & 0o777, 0o600, "credentials readable by others")
        text = _read(reg)
        self.assertIn('mirrors:\n  "docker.io":\n    endpoint:\n      - "https://mirror.local:5000"\n'
                      '      - "https://backup.local"\n  "registry.k8s.io":\n', text)
        self.assertIn('configs:\n  "mirror.local:5000":\n    auth:\n      username: "bob"\n'
                      '      password: "\'p a\\"ss\'"\n    tls:\n      ca_file: "/etc/ssl/certs/mirror.pem"\n'
                      '      insecure_skip_verify: false\n', text)
        self.assertNotIn("bob", d.getVar("K3S_REGISTRY_AUTH", False) or "", "the secret is not a BitBake value")

    def test_parse_time_refusals(self):
        for extra, expect in (
                ('K3S_MANIFESTS = "../etc/passwd"\n', 'K3S_MANIFESTS: "../etc/passwd" is not a manifest'),
                ('K3S_CHARTS = "hello.zip"\n', 'K3S_CHARTS: "hello.zip" is not a Helm chart archive'),
                ('K3S_IMAGE_ARCHIVES = "img.tar;id"\n', 'K3S_IMAGE_ARCHIVES: "img.tar;id" is not an image archive'),
                ('K3S_REGISTRY_MIRRORS = "docker.io=ftp://x"\n', 'K3S_REGISTRY_MIRRORS: "docker.io=ftp://x" is not valid'),
                ('K3S_REGISTRY_TLS[mirror.local_5000] = "ca_file=relative.pem"\n',
                 'K3S_REGISTRY_TLS[mirror.local_5000]: ca_file = "relative.pem" is not an absolute file path'),
                ('K3S_REGISTRY_TLS[mirror.local_5000] = "verify=no"\n', '"verify" is not one of ca_file'),
                ('K3S_REGISTRY_TLS[other_1] = "insecure_skip_verify=true"\n',
                 'K3S_REGISTRY_TLS[other_1] is set, but other:1 is not in K3S_REGISTRY_CONFIGS'),
                ('K3S_REGISTRY_AUTH[mirror.local_5000] = "../secret"\n', 'K3S_REGISTRY_AUTH[mirror.local_5000] = "../secret"')):
            with self.assertRaises(Exception):
                bbinstall.datastore(self.recipe(extra), self.work(), {})
            self.assertIn(expect, "\n".join(self.capture.messages), extra)
            self.capture.messages.clear()

    def test_bad_auth_file_line_named(self):
        top = os.path.join(self.tmp.name, "badauth")
        files = dict(WORKLOAD_FILES, **{"reg-auth": "username: bob\ntoken: x\n"})
        recipe = write_workload(top, WORKLOAD_BB, files)
        d = bbinstall.datastore(recipe, self.work(), {})
        with self.assertRaises(Exception):
            bbinstall.run_install(d, os.path.join(top, "files"))
        self.assertIn('reg-auth line 2: expected "key: value" with key one of username password auth identitytoken',
                      "\n".join(self.capture.messages))


class ReadOnlyRootImage(Base):
    """classes/k3s_rootfs.bbclass (through k3s_image) on an image recipe; OE-Core's image class is an empty stand-in
    (only `inherits_class('image')` matters here)."""

    def image(self, **settings):
        work = self.work()
        os.makedirs(os.path.join(work, "bbpath", "classes"), exist_ok=True)
        with open(os.path.join(work, "bbpath", "classes", "image.bbclass"), "w") as f:
            f.write("# stand-in for OE-Core's image class\n")
        top = os.path.join(self.tmp.name, "img%d" % len(os.listdir(self.tmp.name)))
        os.makedirs(top)
        recipe = os.path.join(top, "test-image_1.0.bb")
        with open(recipe, "w") as f:
            f.write('LICENSE = "MIT"\nrequire conf/include/k3s-spec.inc\ninherit image k3s_image\n'
                    'IMAGE_FEATURES = "k3s-server read-only-rootfs"\n')
        return bbinstall.datastore(recipe, work, settings)

    def test_read_only_root_needs_the_data_partition(self):
        with self.assertRaises(Exception):
            self.image()
        self.assertIn("test-image: IMAGE_FEATURES has read-only-rootfs and k3s-server, but K3S_DATA_PARTITION is "
                      "empty", "\n".join(self.capture.messages))
        self.capture.messages.clear()
        self.image(K3S_DATA_PARTITION="/data")
        with self.assertRaises(Exception):
            self.image(K3S_DATA_PARTITION="/data", K3S_DATA_PARTITION_SIZE="4G")
        self.assertIn('K3S_DATA_PARTITION_SIZE = "4G" is not a number of MiB', "\n".join(self.capture.messages))


class DataPrepare(unittest.TestCase):
    """k3s-data-prepare on a directory tree (no mounts: a state directory that is not a mount point is seeded)."""

    def run_prepare(self, state, src):
        out = subprocess.run(["sh", PREPARE, "%s=%s" % (state, src)], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_seeds_once_updates_changed_and_drops_removed(self):
        with tempfile.TemporaryDirectory() as t:
            state, src = os.path.join(t, "image/var/lib/rancher"), os.path.join(t, "data/rancher")
            images = os.path.join(state, "k3s/agent/images")
            os.makedirs(images)
            for name, text in (("a.tar.zst", "A"), ("b.tar", "B")):
                with open(os.path.join(images, name), "w") as f:
                    f.write(text)
            out = self.run_prepare(state, src)
            self.assertEqual(out.count("copied"), 2, out)
            self.assertEqual(_read(os.path.join(src, "k3s/agent/images/a.tar.zst")), "A")
            # What k3s writes itself is left alone.
            with open(os.path.join(src, "k3s/agent/images/.cache.json"), "w") as f:
                f.write("{}")
            self.assertEqual(self.run_prepare(state, src), "", "second boot copies nothing")
            # An A/B update: a changed archive and a dropped one.
            with open(os.path.join(images, "a.tar.zst"), "w") as f:
                f.write("A2")
            os.unlink(os.path.join(images, "b.tar"))
            out = self.run_prepare(state, src)
            self.assertIn("copied %s/k3s/agent/images/a.tar.zst" % state, out)
            self.assertIn("removed %s/k3s/agent/images/b.tar" % src, out)
            self.assertEqual(_read(os.path.join(src, "k3s/agent/images/a.tar.zst")), "A2")
            self.assertFalse(os.path.exists(os.path.join(src, "k3s/agent/images/b.tar")))
            self.assertTrue(os.path.exists(os.path.join(src, "k3s/agent/images/.cache.json")))


if __name__ == "__main__":
    unittest.main()
