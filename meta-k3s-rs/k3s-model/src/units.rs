//! systemd unit names shared by the recipes, the node tools and the runtime tests.

/// The server unit (package `k3s-server`, enabled in server images).
pub const SERVER_SERVICE: &str = "k3s.service";
/// The agent unit (package `k3s-agent`, enabled by `k3s-agent` or role setup, not at image build).
pub const AGENT_SERVICE: &str = "k3s-agent.service";
/// The oneshot unit that configures the node's role from the kernel command line.
pub const ROLE_SETUP_SERVICE: &str = "k3s-role-setup.service";
/// Drop-in directory of the agent unit.
pub const AGENT_DROPIN_DIR: &str = "/etc/systemd/system/k3s-agent.service.d";
/// The drop-in `k3s-agent` writes: the agent's environment (server URL, token, node name). Mode 0600.
pub const AGENT_ENV_DROPIN: &str = "/etc/systemd/system/k3s-agent.service.d/10-env.conf";
