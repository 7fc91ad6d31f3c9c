#
# SPDX-License-Identifier: MIT
#
# Runtime tests for images with k3s (`bitbake -c testimage core-image-k3s`), written against OE-Core's oeqa API.
# They need a booted image with an SSH server (the layer's images have one) and, for the busybox pod, network access
# from the target to docker.io. They cannot run in meta-k3s-rs's own CI (no image build or VM there).
#
# Timeouts (seconds) can be raised from local.conf for slow emulated targets (qemuarm without KVM):
#   K3S_TEST_READY_TIMEOUT  node Ready and system pods Running (default 600)
#   K3S_TEST_POD_TIMEOUT    the busybox pod, image pull included (default 600)

import json
import time

from oeqa.core.decorator.depends import OETestDepends
from oeqa.runtime.case import OERuntimeTestCase
from oeqa.runtime.decorator.package import OEHasPackage


def _timeout(td, name, default):
    try:
        return int(td.get(name) or default)
    except ValueError:
        return default


class K3sServerTest(OERuntimeTestCase):
    """A server image: k3s.service is active, the node turns Ready, the packaged add-ons run, a pod runs."""

    SYSTEM_DEPLOYMENTS = ('coredns', 'local-path-provisioner', 'metrics-server')

    def run_ok(self, cmd, timeout=None):
        status, output = self.target.run(cmd, timeout=timeout)
        self.assertEqual(status, 0, msg='%s failed (%d):\n%s' % (cmd, status, output))
        return output

    def wait_for(self, what, check, timeout, interval=5):
        """Polls check() -> (done, detail) until done or timeout; fails naming what and the last detail."""
        deadline = time.monotonic() + timeout
        detail = ''
        while time.monotonic() < deadline:
            done, detail = check()
            if done:
                return detail
            time.sleep(interval)
        self.fail('%s not reached within %d s; last state:\n%s' % (what, timeout, detail))

    @OEHasPackage(['k3s-server'])
    @OETestDepends(['ssh.SSHTest.test_ssh'])
    def test_k3s_service_active(self):
        def active():
            status, output = self.target.run('systemctl is-active k3s.service')
            return output.strip() == 'active', output
        # Type=notify: "active" means k3s told systemd it is up (API server serving).
        self.wait_for('k3s.service active', active, _timeout(self.td, 'K3S_TEST_READY_TIMEOUT', 600))
        mode = self.run_ok('stat -c %a /etc/rancher/k3s/k3s.yaml').strip()
        self.assertEqual(mode, '600', msg='the admin kubeconfig must not be readable by others')

    @OETestDepends(['k3s.K3sServerTest.test_k3s_service_active'])
    def test_k3s_node_ready(self):
        def ready():
            status, output = self.target.run('kubectl get nodes -o json')
            if status != 0:
                return False, output
            nodes = json.loads(output).get('items', [])
            conds = [c for n in nodes for c in n['status'].get('conditions', []) if c['type'] == 'Ready']
            return bool(conds) and all(c['status'] == 'True' for c in conds), output[-2000:]
        self.wait_for('node Ready', ready, _timeout(self.td, 'K3S_TEST_READY_TIMEOUT', 600))

    @OETestDepends(['k3s.K3sServerTest.test_k3s_node_ready'])
    def test_k3s_system_pods_running(self):
        # The embedded manifests (coredns, local-storage, metrics-server) are deployed on first start.
        timeout = _timeout(self.td, 'K3S_TEST_READY_TIMEOUT', 600)
        for name in self.SYSTEM_DEPLOYMENTS:
            def rolled_out(name=name):
                status, output = self.target.run(
                    'kubectl -n kube-system rollout status deployment/%s --timeout=10s' % name)
                return status == 0, output
            self.wait_for('deployment %s rolled out' % name, rolled_out, timeout)
        output = self.run_ok('kubectl -n kube-system get pods -o json')
        pods = json.loads(output)['items']
        bad = ['%s=%s' % (p['metadata']['name'], p['status'].get('phase')) for p in pods
               if p['status'].get('phase') not in ('Running', 'Succeeded')]
        self.assertEqual(bad, [], msg='kube-system pods not running: %s' % ', '.join(bad))

    @OETestDepends(['k3s.K3sServerTest.test_k3s_system_pods_running'])
    def test_k3s_busybox_pod(self):
        name = 'oeqa-busybox'
        self.target.run('kubectl delete pod %s --ignore-not-found --wait=true' % name)
        self.run_ok("kubectl run %s --image=docker.io/library/busybox:1.36 --restart=Never "
                    "--command -- sh -c 'echo k3s-oeqa-ok'" % name)
        try:
            def finished():
                status, output = self.target.run("kubectl get pod %s -o jsonpath='{.status.phase}'" % name)
                return output.strip() in ('Succeeded', 'Failed'), output
            phase = self.wait_for('busybox pod finished', finished, _timeout(self.td, 'K3S_TEST_POD_TIMEOUT', 600))
            logs = self.run_ok('kubectl logs %s' % name)
            self.assertEqual(phase.strip(), 'Succeeded', msg=logs)
            self.assertIn('k3s-oeqa-ok', logs)
        finally:
            self.target.run('kubectl delete pod %s --ignore-not-found' % name)


class K3sAgentTest(OERuntimeTestCase):
    """An agent image: the unit is installed but disabled, and k3s-agent refuses bad input without side effects."""

    DROPIN = '/etc/systemd/system/k3s-agent.service.d/10-env.conf'

    @OEHasPackage(['k3s-agent'])
    @OETestDepends(['ssh.SSHTest.test_ssh'])
    def test_k3s_agent_disabled_until_joined(self):
        status, output = self.target.run('test -e %s' % self.DROPIN)
        if status == 0:
            self.skipTest('this agent was already joined (%s exists)' % self.DROPIN)
        status, output = self.target.run('systemctl is-enabled k3s-agent.service')
        self.assertEqual(output.strip(), 'disabled', msg=output)

    @OEHasPackage(['k3s-agent'])
    @OETestDepends(['ssh.SSHTest.test_ssh'])
    def test_k3s_agent_refuses_bad_input(self):
        before = self.target.run('cat %s 2>/dev/null; echo "rc=$?"' % self.DROPIN)[1]
        cases = [
            ('missing server', 'k3s-agent -t sometoken'),
            ('server that is not a URL', "k3s-agent -s 'not a url' -t sometoken"),
            ('empty token', "k3s-agent -s https://10.0.0.1:6443 -t ''"),
            ('token with a newline', "k3s-agent -s https://10.0.0.1:6443 -t \"$(printf 'a\\nb')\""),
            ('unreadable token file', 'k3s-agent -s https://10.0.0.1:6443 --token-file /nonexistent/token'),
        ]
        for what, cmd in cases:
            status, output = self.target.run(cmd)
            self.assertNotEqual(status, 0, msg='%s: %s was accepted:\n%s' % (what, cmd, output))
            self.assertTrue(output.strip(), msg='%s: %s failed without saying why' % (what, cmd))
        after = self.target.run('cat %s 2>/dev/null; echo "rc=$?"' % self.DROPIN)[1]
        self.assertEqual(before, after, msg='a refused join must not touch %s' % self.DROPIN)
        status, output = self.target.run('systemctl is-active k3s-agent.service')
        self.assertNotEqual(output.strip(), 'active', msg='a refused join must not start the agent')


class K3sNodeToolsTest(OERuntimeTestCase):
    """Any image with the node tools: the kernel built with the layer's fragment passes k3s-check-config."""

    @OEHasPackage(['k3s-node'])
    @OETestDepends(['ssh.SSHTest.test_ssh'])
    def test_k3s_check_config(self):
        status, output = self.target.run('k3s-check-config')
        self.assertEqual(status, 0, msg='the kernel lacks options k3s requires:\n%s' % output)

    @OEHasPackage(['k3s-node'])
    @OETestDepends(['ssh.SSHTest.test_ssh'])
    def test_k3s_tool_links(self):
        for tool in ('k3s-agent', 'k3s-clean', 'k3s-killall.sh', 'k3s-check-config', 'k3s-role-setup'):
            status, output = self.target.run('readlink /usr/bin/%s' % tool)
            self.assertEqual((status, output.strip()), (0, 'k3s-node'), msg=tool)
