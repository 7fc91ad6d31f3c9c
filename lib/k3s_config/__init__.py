# SPDX-License-Identifier: MIT
"""The k3s recipe's knobs (``knobs``): parse-time checks and the units and per-role config files do_install writes;
baked workloads (``workloads``, classes/k3s_workloads.bbclass): manifests, charts, image archives, registries.yaml.

Registered in conf/layer.conf with ``addpylib``; ``BBIMPORTS`` makes BitBake track the module's functions and the
variables they read in task signatures, as for OE-Core's ``oe`` package.
"""

BBIMPORTS = ["knobs", "workloads"]
