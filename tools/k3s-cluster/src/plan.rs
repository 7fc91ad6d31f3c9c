//! The cluster plan: one QEMU command line per node, computed without side effects.
//!
//! Network: every VM's first NIC (eth0) is on a private QEMU socket network, `-netdev socket,mcast=GROUP:PORT,
//! localaddr=127.0.0.1` (UDP multicast on the loopback interface: any number of VMs, no root, no tap, no bridge;
//! QEMU 7.2, Debian 12's, has it; its `-netdev dgram`/`stream` are point-to-point only). Addresses are static,
//! set by the kernel's `ip=` parameter as runqemu does for tap networking (so OE-Core's systemd-networkd
//! `wired.network`, which skips a command line with `ip=`, leaves the NIC alone). Only the server has a second
//! NIC (eth1) on QEMU's user-mode stack (slirp), which forwards `127.0.0.1:<api port>` on the host to its 6443;
//! the node tools' `60-k3s-cluster-host.network` runs DHCP on it. With `restrict` that stack reaches neither the
//! host nor the outside (only the forward works). Agents have no way out: pods on them need images in the rootfs.
//!
//! Per node, on the kernel command line (not secret): `k3s.role=`, `k3s.server=` (agents), `k3s.node-name=`,
//! `k3s.node-ip=`, `k3s.iface=eth0` and `ip=`; k3s-role-setup.service starts on `k3s.role` there
//! (`ConditionKernelCommandLine=`). The join token only through fw_cfg (`-fw_cfg name=opt/k3s/token,file=…`):
//! /proc/cmdline is readable by every user of the guest, /sys/firmware/qemu_fw_cfg only by root.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

use crate::qemuboot::{Qemuboot, QemubootError};

/// The fw_cfg item the token travels in (k3s-role-setup reads `/sys/firmware/qemu_fw_cfg/by_name/<this>/raw`).
pub const FW_CFG_TOKEN: &str = "opt/k3s/token";
/// The virtio-serial port the server's kubeconfig comes out of (`/dev/virtio-ports/<this>` in the guest).
pub const KUBECONFIG_PORT: &str = "org.k3s-rs.kubeconfig";
/// The guest's interface on the cluster network (the first NIC; `net.ifnames=0` keeps the kernel's names).
pub const CLUSTER_IFACE: &str = "eth0";
/// The MAC of the server's user-mode NIC (eth1). The node tools' `60-k3s-cluster-host.network` matches it (and
/// `k3s.role` on the command line) to run DHCP there: the kernel's `ip=` for eth0 makes OE-Core's
/// `wired.network` leave every NIC alone.
pub const HOST_NIC_MAC: &str = "52:54:00:4b:ff:01";
/// k3s's API port in the server guest.
pub const GUEST_API_PORT: u16 = 6443;
/// Most agents the plan numbers (server .10, agents .11 to .110 of the cluster /24).
pub const MAX_AGENTS: u16 = 100;
/// Below this the server runs short (k3s's own guidance for a server with agents is 2 GiB).
pub const SERVER_MIN_MEMORY_MIB: u64 = 2048;

/// A plan that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Too many agents for the subnet.
    #[error("--agents {0}: at most {MAX_AGENTS} agents fit the cluster network")]
    TooManyAgents(u16),
    /// The image's qemuboot.conf lacks something.
    #[error(transparent)]
    Qemuboot(#[from] QemubootError),
    /// A path QEMU cannot be given safely.
    #[error("{what} {path:?}: not valid UTF-8 (QEMU option values are text)")]
    Path {
        /// What the path is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
}

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The k3s server (API on 6443, forwarded to the host).
    Server,
    /// A k3s agent joining the server.
    Agent,
}

impl Role {
    /// As k3s-role-setup reads it (`k3s.role=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Agent => "agent",
        }
    }
}

/// What one node boots: the QEMU binary, its machine arguments, kernel and root file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeImage {
    /// `qemu-system-…`.
    pub qemu: String,
    /// Machine, CPU, SMP, RNG, … (QB_MACHINE, QB_CPU, QB_SMP, QB_RNG, QB_OPT_APPEND).
    pub machine_args: Vec<String>,
    /// The kernel.
    pub kernel: PathBuf,
    /// An initramfs (the CI's stand-in boots one instead of a root file system).
    pub initrd: Option<PathBuf>,
    /// The root file system image and QB_ROOTFS_OPT (with `@ROOTFS@`); opened `snapshot=on`, so the built image
    /// is never written and every cluster starts from it afresh.
    pub rootfs: Option<(PathBuf, Vec<String>)>,
    /// `root=` (QB_KERNEL_ROOT).
    pub kernel_root: Option<String>,
    /// More kernel parameters (QB_KERNEL_CMDLINE_APPEND, the console).
    pub cmdline: Vec<String>,
    /// QB_NETWORK_DEVICE (`-device virtio-net-pci,netdev=net0,mac=@MAC@`).
    pub nic: Vec<String>,
    /// Memory in MiB.
    pub memory_mib: u64,
}

/// The serial console kernel parameter for a QEMU binary, as runqemu's nographic mode gives it.
fn console_for(qemu: &str) -> &'static str {
    if qemu.ends_with("x86_64") || qemu.ends_with("i386") { "console=ttyS0" } else { "console=ttyAMA0" }
}

impl NodeImage {
    /// The image a qemuboot.conf describes; `topdir` is the build directory its relative paths start from,
    /// `rootfs` the (uncompressed) root file system to boot.
    pub fn from_qemuboot(q: &Qemuboot, topdir: &Path, rootfs: PathBuf, kvm: bool) -> Result<Self, PlanError> {
        let deploy = topdir.join(q.require("deploy_dir_image")?);
        let mut machine_args = q.args("qb_machine");
        machine_args.extend(q.args(if kvm { "qb_cpu_kvm" } else { "qb_cpu" }));
        machine_args.extend(q.args("qb_smp"));
        machine_args.extend(q.args("qb_rng"));
        machine_args.extend(q.args("qb_opt_append"));
        let qemu = q.require("qb_system_name")?.to_string();
        let mut cmdline = q.args("qb_kernel_cmdline_append");
        if !cmdline.iter().any(|p| p.starts_with("console=")) {
            cmdline.push(console_for(&qemu).into());
        }
        let nic = match q.args("qb_network_device") {
            v if v.is_empty() => vec!["-device".into(), "virtio-net-pci,netdev=net0,mac=@MAC@".into()],
            v => v,
        };
        Ok(Self {
            qemu,
            machine_args,
            kernel: deploy.join(q.require("qb_default_kernel")?),
            initrd: None,
            rootfs: Some((rootfs, q.args("qb_rootfs_opt"))),
            kernel_root: Some(q.get("qb_kernel_root").unwrap_or("/dev/vda").to_string()),
            cmdline,
            nic,
            memory_mib: q.memory_mib().unwrap_or(256),
        })
    }

    /// A kernel and initramfs on an x86_64 q35 machine (what the CI's stand-in for the images boots).
    pub fn kernel_initrd(kernel: PathBuf, initrd: PathBuf, memory_mib: u64) -> Self {
        Self {
            qemu: "qemu-system-x86_64".into(),
            machine_args: vec!["-machine".into(), "q35".into()],
            kernel,
            initrd: Some(initrd),
            rootfs: None,
            kernel_root: None,
            cmdline: vec!["console=ttyS0".into()],
            nic: vec!["-device".into(), "virtio-net-pci,netdev=net0,mac=@MAC@".into()],
            memory_mib,
        }
    }
}

/// Everything the plan is made from.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// Number of agents.
    pub agents: u16,
    /// The server's image.
    pub server: NodeImage,
    /// The agents' image.
    pub agent: NodeImage,
    /// The 0700 runtime directory (token, sockets, consoles, kubeconfig).
    pub run_dir: PathBuf,
    /// The 0600 token file in it.
    pub token_file: PathBuf,
    /// The cluster network's multicast group and port (one per cluster, so two clusters never meet).
    pub mcast: SocketAddrV4,
    /// The host port (127.0.0.1) forwarded to the server's 6443.
    pub api_port: u16,
    /// No outside access from the cluster network (slirp `restrict=on`; the forward still works).
    pub restrict: bool,
    /// Use KVM instead of software emulation.
    pub kvm: bool,
}

/// One node's QEMU invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmPlan {
    /// Node name (k3s's and the VM's).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its address on the cluster network.
    pub ip: Ipv4Addr,
    /// The QEMU binary.
    pub program: String,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Serial console log.
    pub console_log: PathBuf,
    /// Serial console socket (attach to log in: `socat -,raw,echo=0 UNIX-CONNECT:<this>`).
    pub console_socket: PathBuf,
    /// The kernel command line given.
    pub cmdline: String,
}

/// The cluster network's addresses: `192.168.76.0/24`, the server .10, agent i (1-based) .10+i.
pub const SUBNET: [u8; 3] = [192, 168, 76];

fn addr(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], last)
}

/// The server's address on the cluster network.
pub fn server_ip() -> Ipv4Addr {
    addr(10)
}

/// Node names: `k3s-server`, `k3s-agent-1`, … (valid k3s node names and hostnames).
pub fn node_name(role: Role, index: u16) -> String {
    match role {
        Role::Server => "k3s-server".into(),
        Role::Agent => format!("k3s-agent-{index}"),
    }
}

/// A path as a QEMU option value (`-drive file=…`, `-chardev path=…`, `-fw_cfg file=…`): `,` is QEMU's separator
/// and doubles inside a value.
pub fn qemu_path(what: &'static str, p: &Path) -> Result<String, PlanError> {
    Ok(plain_path(what, p)?.replace(',', ",,"))
}

/// A path QEMU takes as it is: the argument of `-kernel`, `-initrd` (booting Linux; only multiboot splits it at
/// commas) and `-pidfile`. Doubling a comma there names another file (QEMU 7.2: "could not open kernel file
/// '…a,,b/vmlinuz'").
pub fn plain_path(what: &'static str, p: &Path) -> Result<String, PlanError> {
    p.to_str().map(str::to_owned).ok_or_else(|| PlanError::Path { what, path: p.to_path_buf() })
}

/// The plan: the server first, then the agents.
pub fn plan(spec: &ClusterSpec) -> Result<Vec<VmPlan>, PlanError> {
    if spec.agents > MAX_AGENTS {
        return Err(PlanError::TooManyAgents(spec.agents));
    }
    let mut vms = vec![vm(spec, Role::Server, 0)?];
    for i in 1..=spec.agents {
        vms.push(vm(spec, Role::Agent, i)?);
    }
    Ok(vms)
}

fn vm(spec: &ClusterSpec, role: Role, index: u16) -> Result<VmPlan, PlanError> {
    let image = match role {
        Role::Server => &spec.server,
        Role::Agent => &spec.agent,
    };
    let name = node_name(role, index);
    // index ≤ MAX_AGENTS (100), so 10 + index fits a u8.
    let ip = addr(10 + index as u8);
    let mut a: Vec<String> = vec!["-name".into(), name.clone(), "-nodefaults".into(), "-display".into(), "none".into()];
    a.extend(["-accel".into(), if spec.kvm { "kvm" } else { "tcg" }.into()]);
    a.extend(image.machine_args.iter().cloned());
    a.extend(["-m".into(), image.memory_mib.to_string()]);
    // A guest that powers off or panics ends its QEMU (the runner then stops the cluster and says which).
    a.push("-no-reboot".into());
    // `-pidfile` takes the file name as it is (not a QemuOpts value: no comma doubling), so QEMU writes exactly
    // `<run dir>/<node>.pid`, and its command line names that path, which the stale cleanup matches byte for byte.
    a.extend(["-pidfile".into(), plain_path("pid file", &spec.run_dir.join(format!("{name}.pid")))?]);

    let console_socket = spec.run_dir.join(format!("{name}.serial"));
    let console_log = spec.run_dir.join(format!("{name}.console"));
    a.extend([
        "-chardev".into(),
        format!(
            "socket,id=console,path={},server=on,wait=off,logfile={}",
            qemu_path("console socket", &console_socket)?,
            qemu_path("console log", &console_log)?
        ),
        "-serial".into(),
        "chardev:console".into(),
    ]);

    a.extend(["-kernel".into(), plain_path("kernel", &image.kernel)?]);
    if let Some(initrd) = &image.initrd {
        a.extend(["-initrd".into(), plain_path("initramfs", initrd)?]);
    }
    if let Some((rootfs, opts)) = &image.rootfs {
        let rootfs = qemu_path("root file system", rootfs)?;
        for o in opts {
            if o.contains("@ROOTFS@") {
                a.push(format!("{},snapshot=on", o.replace("@ROOTFS@", &rootfs)));
            } else {
                a.push(o.clone());
            }
        }
    }

    let mac = format!("52:54:00:4b:{:02x}:{:02x}", (10 + index) >> 8, (10 + index) & 0xff);
    // The cluster NIC (eth0): the socket network, nothing else on it.
    a.extend(["-netdev".into(), format!("socket,id=net0,mcast={},localaddr=127.0.0.1", spec.mcast)]);
    a.extend(image.nic.iter().map(|o| o.replace("@MAC@", &mac)));
    if role == Role::Server {
        // The host NIC (eth1, server only): QEMU's user-mode stack, for the host's forward to 6443 (and, unless
        // restricted, the server's way out). Its own NIC, not a hub port next to the socket netdev: slirp takes
        // every IP packet it sees for an outbound connection, and would answer (reset) the nodes' TCP to each other.
        let restrict = if spec.restrict { "restrict=on," } else { "" };
        a.extend([
            "-netdev".into(),
            format!("user,id=host,{restrict}hostfwd=tcp:127.0.0.1:{}-:{GUEST_API_PORT}", spec.api_port),
        ]);
        a.extend(image.nic.iter().map(|o| o.replace("netdev=net0", "netdev=host").replace("@MAC@", HOST_NIC_MAC)));
        a.extend([
            "-device".into(),
            "virtio-serial-pci,id=k3s-serial".into(),
            "-chardev".into(),
            format!(
                "socket,id=kubeconfig,path={},server=on,wait=off",
                qemu_path("kubeconfig socket", &spec.run_dir.join("kubeconfig.sock"))?
            ),
            "-device".into(),
            format!("virtserialport,bus=k3s-serial.0,chardev=kubeconfig,name={KUBECONFIG_PORT}"),
        ]);
    }
    a.extend(["-fw_cfg".into(), format!("name={FW_CFG_TOKEN},file={}", qemu_path("token file", &spec.token_file)?)]);

    let mut cmdline: Vec<String> = Vec::new();
    if let Some(root) = &image.kernel_root {
        cmdline.extend([format!("root={root}"), "rw".into()]);
    }
    cmdline.extend(image.cmdline.iter().cloned());
    cmdline.push("net.ifnames=0".into());
    // No gateway: the cluster network has none (the server's default route comes from its host NIC's DHCP).
    cmdline.push(format!("ip={ip}:::255.255.255.0:{name}:{CLUSTER_IFACE}:off"));
    cmdline.push(format!("k3s.role={}", role.as_str()));
    if role == Role::Agent {
        cmdline.push(format!("k3s.server={}", server_ip()));
    }
    cmdline.extend([
        format!("k3s.node-name={name}"),
        format!("k3s.node-ip={ip}"),
        format!("k3s.iface={CLUSTER_IFACE}"),
    ]);
    let cmdline = cmdline.join(" ");
    a.extend(["-append".into(), cmdline.clone()]);

    Ok(VmPlan {
        name,
        role,
        ip,
        program: image.qemu.clone(),
        args: a.into_iter().map(OsString::from).collect(),
        console_log,
        console_socket,
        cmdline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(agents: u16) -> ClusterSpec {
        let img = NodeImage::kernel_initrd("/k/vmlinuz".into(), "/k/initrd,x".into(), 512);
        ClusterSpec {
            agents,
            server: img.clone(),
            agent: img,
            run_dir: "/run/user/1/k3s-cluster-x".into(),
            token_file: "/run/user/1/k3s-cluster-x/token".into(),
            mcast: "230.0.76.1:45000".parse().unwrap(),
            api_port: 46443,
            restrict: true,
            kvm: false,
        }
    }

    fn args(v: &VmPlan) -> Vec<String> {
        v.args.iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn pid_file_named_as_it_is() {
        // `-pidfile` is no QemuOpts value: a comma stays one (else QEMU writes another file than the stale
        // cleanup reads).
        let s = ClusterSpec { run_dir: "/run/a,b".into(), ..spec(1) };
        for v in plan(&s).unwrap() {
            let a = args(&v);
            let i = a.iter().position(|x| x == "-pidfile").unwrap();
            assert_eq!(a[i + 1], format!("/run/a,b/{}.pid", v.name));
        }
    }

    #[test]
    fn one_server_and_n_agents_on_one_socket_network() {
        let vms = plan(&spec(2)).unwrap();
        assert_eq!(
            vms.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            ["k3s-server", "k3s-agent-1", "k3s-agent-2"]
        );
        for v in &vms {
            let a = args(v);
            assert!(
                a.iter().any(|x| x == "socket,id=cluster,mcast=230.0.76.1:45000,localaddr=127.0.0.1"
                    || x == "socket,id=net0,mcast=230.0.76.1:45000,localaddr=127.0.0.1"),
                "{a:?}"
            );
            assert!(a.contains(&"name=opt/k3s/token,file=/run/user/1/k3s-cluster-x/token".to_string()));
            // The token is never on the command line; role, server and name are.
            assert!(!v.cmdline.contains("k3s.token"), "{}", v.cmdline);
            assert!(v.cmdline.contains(&format!("k3s.node-name={} ", v.name)), "{}", v.cmdline);
            assert!(a.contains(&"/k/initrd,x".to_string()), "-initrd takes the path as it is: {a:?}");
        }
        let server = args(&vms[0]);
        assert!(
            server.contains(&"user,id=host,restrict=on,hostfwd=tcp:127.0.0.1:46443-:6443".to_string()),
            "{server:?}"
        );
        // The host NIC is a NIC of its own (slirp must not see the cluster's traffic), after the cluster NIC.
        let nics: Vec<&String> = server.iter().filter(|x| x.starts_with("virtio-net-pci,")).collect();
        assert_eq!(
            nics,
            ["virtio-net-pci,netdev=net0,mac=52:54:00:4b:00:0a", "virtio-net-pci,netdev=host,mac=52:54:00:4b:ff:01"]
        );
        assert!(!server.iter().any(|x| x.starts_with("hubport")));
        assert!(vms[0].cmdline.contains("k3s.role=server"));
        assert!(!vms[0].cmdline.contains("k3s.server="));
        assert!(vms[2].cmdline.contains(" ip=192.168.76.12:::255.255.255.0:k3s-agent-2:eth0:off "));
        assert!(vms[2].cmdline.contains("k3s.role=agent k3s.server=192.168.76.10 "));
        // Agents have no user-mode netdev: only the server's QEMU reaches the host.
        assert!(!args(&vms[1]).iter().any(|x| x.starts_with("user,")));
        assert!(args(&vms[1]).contains(&"virtio-net-pci,netdev=net0,mac=52:54:00:4b:00:0b".to_string()));
    }

    #[test]
    fn too_many_agents() {
        assert_eq!(
            plan(&spec(101)).unwrap_err().to_string(),
            "--agents 101: at most 100 agents fit the cluster network"
        );
        assert_eq!(plan(&spec(100)).unwrap().last().unwrap().ip, addr(110));
    }

    #[test]
    fn from_a_qemuboot_conf() {
        let q = Qemuboot::parse(
            Path::new("q"),
            "[config_bsp]\ndeploy_dir_image = tmp/deploy/images/qemuarm64\nqb_system_name = qemu-system-aarch64\n\
             qb_default_kernel = Image\nqb_machine = -machine virt\nqb_cpu = -cpu cortex-a57\nqb_mem = -m 1024\n\
             qb_rootfs_opt = -drive id=disk0,file=@ROOTFS@,if=none,format=raw -device virtio-blk-pci,drive=disk0\n",
        )
        .unwrap();
        let img = NodeImage::from_qemuboot(&q, Path::new("/b"), "/b/x.ext4".into(), false).unwrap();
        assert_eq!(img.kernel, Path::new("/b/tmp/deploy/images/qemuarm64/Image"));
        assert_eq!(img.cmdline, ["console=ttyAMA0"]);
        assert_eq!(img.memory_mib, 1024);
        let mut s = spec(0);
        s.server = img;
        let v = &plan(&s).unwrap()[0];
        let a = args(v);
        assert!(a.contains(&"id=disk0,file=/b/x.ext4,if=none,format=raw,snapshot=on".to_string()), "{a:?}");
        assert!(v.cmdline.starts_with("root=/dev/vda rw console=ttyAMA0 net.ifnames=0 "), "{}", v.cmdline);
    }

    #[test]
    fn the_node_tools_guest_files_name_the_plans_mac_and_port() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../meta-k3s-rs/k3s-node/systemd");
        let network = std::fs::read_to_string(dir.join("60-k3s-cluster-host.network")).unwrap();
        assert!(network.contains(&format!("\nMACAddress={HOST_NIC_MAC}\n")), "{network}");
        let export = std::fs::read_to_string(dir.join("k3s-kubeconfig-export.service")).unwrap();
        assert!(export.contains(&format!("/dev/virtio-ports/{KUBECONFIG_PORT}\n")), "{export}");
    }
}
