//! `k3s-bake cluster`: find the images, make the plan, run it, wait for Ready, tear down on a signal.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::plan::{self, ClusterSpec, NodeImage};
use crate::qemuboot::{Qemuboot, QemubootError};
use crate::run::{self, Cluster, RunError};
use crate::rundir::{RunDir, RunDirError};

/// `k3s-bake cluster` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Number of agents next to the one server.
    #[arg(long, default_value_t = 1)]
    pub agents: u16,
    /// The build directory (images in TMPDIR/deploy/images/MACHINE, TMPDIR being BUILD/tmp as OE-Core's default)
    /// [default: $BUILDDIR, as oe-init-build-env sets it, else the current directory]
    #[arg(long, value_name = "DIR")]
    pub build_dir: Option<PathBuf>,
    /// MACHINE [default: the only machine in the build's deploy/images]
    #[arg(long)]
    pub machine: Option<String>,
    /// The directory holding the images and their qemuboot.conf (DEPLOY_DIR_IMAGE), instead of --build-dir/--machine
    #[arg(long, value_name = "DIR")]
    pub deploy_dir: Option<PathBuf>,
    /// Server image
    #[arg(long, default_value = "core-image-k3s")]
    pub server_image: String,
    /// Agent image
    #[arg(long, default_value = "core-image-k3s-agent")]
    pub agent_image: String,
    /// Server memory in MiB [default: the image's QB_MEM, from its profile]
    #[arg(long, value_name = "MIB")]
    pub memory: Option<u64>,
    /// Agent memory in MiB [default: the agent image's QB_MEM]
    #[arg(long, value_name = "MIB")]
    pub agent_memory: Option<u64>,
    /// Boot this kernel with --initrd on every node instead of the images (x86_64; how the CI's stand-in for the
    /// images runs the same plan)
    #[arg(long, value_name = "FILE", requires = "initrd")]
    pub kernel: Option<PathBuf>,
    /// The initramfs for --kernel
    #[arg(long, value_name = "FILE", requires = "kernel")]
    pub initrd: Option<PathBuf>,
    /// Host port on 127.0.0.1 forwarded to the server's 6443 [default: a free one]
    #[arg(long, default_value_t = 0)]
    pub api_port: u16,
    /// Cut the cluster network off from the host and the outside (only the API forward stays); pods then need
    /// images already in the rootfs
    #[arg(long)]
    pub restrict: bool,
    /// Use KVM (default: software emulation, which works wherever QEMU does)
    #[arg(long)]
    pub kvm: bool,
    /// Runtime directory to make (mode 0700; token, console sockets and logs, kubeconfig)
    /// [default: a new one in $XDG_RUNTIME_DIR or the temporary directory]
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Keep the runtime directory when the cluster stops (without the token: its cluster is gone)
    #[arg(long)]
    pub keep_run_dir: bool,
    /// kubectl to wait with
    #[arg(long, value_name = "FILE", default_value = "kubectl")]
    pub kubectl: PathBuf,
    /// Do not wait for Ready: boot, collect the kubeconfig, run until stopped
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for every node to be Ready (software emulation is slow)
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
    /// Print the QEMU command lines and exit
    #[arg(long)]
    pub dry_run: bool,
    /// Only remove what killed runs left (every start does it first): this user's runtime directories in
    /// $XDG_RUNTIME_DIR or the temporary directory (and --run-dir) whose k3s-bake is gone, token included,
    /// after stopping any QEMU recorded there that still runs; then exit
    #[arg(long)]
    pub clean: bool,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Bad options or missing images.
    #[error("{0}")]
    Usage(String),
    /// qemuboot.conf.
    #[error(transparent)]
    Qemuboot(#[from] QemubootError),
    /// The plan.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// The runtime directory.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    /// Running.
    #[error(transparent)]
    Run(#[from] RunError),
    /// I/O while preparing.
    #[error("{path}: {source}")]
    Io {
        /// What.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn deploy_dir(args: &ClusterArgs) -> Result<PathBuf, ClusterError> {
    if let Some(d) = &args.deploy_dir {
        return Ok(d.clone());
    }
    let build = match &args.build_dir {
        Some(b) => b.clone(),
        None => std::env::var_os("BUILDDIR")
            .map(PathBuf::from)
            .map_or_else(std::env::current_dir, Ok)
            .map_err(|source| ClusterError::Io { path: ".".into(), source })?,
    };
    let images = build.join("tmp/deploy/images");
    let machine = match &args.machine {
        Some(m) => m.clone(),
        None => {
            let found: Vec<String> = std::fs::read_dir(&images)
                .map_err(|e| {
                    ClusterError::Usage(format!(
                        "{}: {e}; build the images first (bitbake {} {}), or give --build-dir / --deploy-dir",
                        images.display(),
                        args.server_image,
                        args.agent_image
                    ))
                })?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            match found.as_slice() {
                [one] => one.clone(),
                _ => {
                    return Err(ClusterError::Usage(format!(
                        "{}: machines {found:?}; say which with --machine",
                        images.display()
                    )));
                }
            }
        }
    };
    Ok(images.join(machine))
}

/// The image's qemuboot.conf and its root file system, uncompressed into the runtime directory when it is
/// `.zst` (as runqemu does) and shared by every VM of that image (each opens it `snapshot=on`).
fn image(deploy: &Path, name: &str, run_dir: &Path, kvm: bool, memory: Option<u64>) -> Result<NodeImage, ClusterError> {
    let entries = std::fs::read_dir(deploy).map_err(|source| ClusterError::Io { path: deploy.into(), source })?;
    let prefix = format!("{name}-");
    let conf = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(&prefix) && f.ends_with(".rootfs.qemuboot.conf"))
        })
        .ok_or_else(|| {
            ClusterError::Usage(format!(
                "{}: no {name}-<machine>.rootfs.qemuboot.conf; build it first: bitbake {name}",
                deploy.display()
            ))
        })?;
    let q = Qemuboot::load(&conf)?;
    let fstype = q.get("qb_default_fstype").unwrap_or("ext4");
    let link = q.require("image_link_name")?;
    let rootfs = deploy.join(format!("{link}.{fstype}"));
    if !rootfs.is_file() {
        return Err(ClusterError::Usage(format!(
            "{}: missing (QB_DEFAULT_FSTYPE {fstype} of {})",
            rootfs.display(),
            conf.display()
        )));
    }
    let rootfs = match fstype.strip_suffix(".zst") {
        Some(plain) => {
            let out = run_dir.join(format!("{link}.{plain}"));
            duct::cmd!("zstd", "-d", "-q", "-f", "-o", &out, &rootfs)
                .run()
                .map_err(|source| ClusterError::Io { path: rootfs.clone(), source })?;
            out
        }
        None => rootfs,
    };
    let mut img = NodeImage::from_qemuboot(&q, deploy, rootfs, kvm)?;
    if let Some(m) = memory {
        img.memory_mib = m;
    }
    Ok(img)
}

fn free_port() -> Result<u16, ClusterError> {
    // Ask the kernel for a free port on 127.0.0.1 (slirp binds it a moment later; a race only a busy host loses).
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|source| ClusterError::Io { path: "127.0.0.1:0".into(), source })?;
    l.local_addr().map(|a| a.port()).map_err(|source| ClusterError::Io { path: "127.0.0.1:0".into(), source })
}

fn mcast_group() -> Result<SocketAddrV4, ClusterError> {
    // One group and port per cluster (administratively scoped 239.255/16 stays on this host with the loopback
    // interface), so two clusters on one host never share a network.
    let r = crate::rundir::random_hex(3).map_err(|source| ClusterError::Io { path: "/dev/urandom".into(), source })?;
    let b = u32::from_str_radix(&r, 16).unwrap_or(0);
    let group = Ipv4Addr::new(239, 255, (b >> 16) as u8, ((b >> 8) as u8).max(1));
    let port = 40000 + (b & 0xff) as u16 * 64 + (std::process::id() % 64) as u16;
    Ok(SocketAddrV4::new(group, port))
}

/// Removes the runtime directories of killed runs (see [`crate::stale`]) and says what went; a directory that
/// cannot be cleaned is a warning, not a reason not to start.
fn clean_stale(args: &ClusterArgs) -> usize {
    let base = crate::rundir::default_base();
    let results = crate::stale::clean_all(&base, crate::rundir::DIR_PREFIX, args.run_dir.as_deref(), STALE_GRACE);
    let mut n = 0;
    for r in results {
        match r {
            Ok(c) => {
                println!("{c}");
                n += 1;
            }
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    if args.clean && n == 0 {
        println!("no stale runtime directory in {}", base.display());
    }
    let _ = std::io::stdout().flush();
    n
}

/// SIGTERM → SIGKILL for a QEMU a killed run left, as the runner's own teardown.
const STALE_GRACE: Duration = Duration::from_secs(10);

/// Runs `k3s-bake cluster`; returns when the cluster was stopped (or failed), with every QEMU gone.
pub fn run(args: &ClusterArgs) -> Result<(), ClusterError> {
    clean_stale(args);
    if args.clean {
        return Ok(());
    }
    let mut rd = RunDir::create(args.run_dir.as_deref(), args.keep_run_dir)?;
    let token_file = rd.write_token()?;
    let (server, agent) = match (&args.kernel, &args.initrd) {
        (Some(k), Some(i)) => {
            let s = NodeImage::kernel_initrd(k.clone(), i.clone(), args.memory.unwrap_or(2048));
            let a = NodeImage::kernel_initrd(k.clone(), i.clone(), args.agent_memory.unwrap_or(1024));
            (s, a)
        }
        _ => {
            let deploy = deploy_dir(args)?;
            let server = image(&deploy, &args.server_image, rd.path(), args.kvm, args.memory)?;
            let agent = if args.agents > 0 {
                image(&deploy, &args.agent_image, rd.path(), args.kvm, args.agent_memory)?
            } else {
                server.clone()
            };
            (server, agent)
        }
    };
    if server.memory_mib < plan::SERVER_MIN_MEMORY_MIB {
        eprintln!(
            "warning: the server has {} MiB; k3s needs {} MiB for a server with agents (--memory, or \
             K3S_QEMU_MEMORY_MB in local.conf)",
            server.memory_mib,
            plan::SERVER_MIN_MEMORY_MIB
        );
    }
    let api_port = if args.api_port == 0 { free_port()? } else { args.api_port };
    let spec = ClusterSpec {
        agents: args.agents,
        server,
        agent,
        run_dir: rd.path().to_path_buf(),
        token_file,
        mcast: mcast_group()?,
        api_port,
        restrict: args.restrict,
        kvm: args.kvm,
    };
    let plans = plan::plan(&spec)?;
    if args.dry_run {
        for p in &plans {
            let words: Vec<String> = std::iter::once(p.program.clone())
                .chain(p.args.iter().map(|a| shell_word(&a.to_string_lossy())))
                .collect();
            println!("{}", words.join(" "));
        }
        return Ok(());
    }

    let stop = run::stop_flag()?;
    // On this thread (k3s-bake's main thread), which lives as long as the cluster: the QEMUs' parent-death
    // signal fires when the spawning thread ends (crate::pdeath).
    let cluster = Cluster::start(&plans, rd.path())?;
    let dir = rd.path().display().to_string();
    println!("runtime directory {dir} (mode 0700): token, <node>.serial consoles, <node>.console logs");
    for p in &plans {
        println!(
            "  {} {} {}: console `socat -,raw,echo=0 UNIX-CONNECT:{}`",
            p.role.as_str(),
            p.name,
            p.ip,
            p.console_socket.display()
        );
    }
    println!("QEMU process groups: {:?}", cluster.process_groups());
    let _ = std::io::stdout().flush();

    // The kubeconfig arrives whenever k3s writes it; collected next to the waiting.
    let kubeconfig = rd.path().join("kubeconfig");
    let collector = {
        let (sock, out, stop) = (rd.path().join("kubeconfig.sock"), kubeconfig.clone(), Arc::clone(&stop));
        std::thread::spawn(move || run::collect_kubeconfig(&sock, &out, api_port, &stop))
    };
    let names: Vec<String> = plans.iter().map(|p| p.name.clone()).collect();
    let result = (|| -> Result<(), ClusterError> {
        if !args.no_wait {
            run::wait_ready(&cluster, &args.kubectl, &kubeconfig, &names, Duration::from_secs(args.timeout), &stop)?;
            let _ = duct::cmd(&args.kubectl, ["get", "nodes", "-o", "wide"]).env("KUBECONFIG", &kubeconfig).run();
            println!(
                "all {} nodes Ready; KUBECONFIG={} (API on 127.0.0.1:{api_port})",
                names.len(),
                kubeconfig.display()
            );
        } else {
            println!("not waiting for Ready; API forwarded to 127.0.0.1:{api_port}");
        }
        println!("running; Ctrl-C stops every VM");
        let _ = std::io::stdout().flush();
        let mut announced = false;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            cluster.check_running()?;
            if !announced && kubeconfig.exists() {
                println!("kubeconfig: {} (mode 0600)", kubeconfig.display());
                let _ = std::io::stdout().flush();
                announced = true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })();
    let stopped_by_signal = stop.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    drop(cluster);
    let _ = collector.join();
    if result.is_err() {
        // Keep what explains the failure.
        rd.keep();
        eprintln!("kept {dir} (console logs)");
    }
    println!("cluster stopped{}", if stopped_by_signal { " (signal)" } else { "" });
    match result {
        Err(ClusterError::Run(RunError::Stopped)) => Ok(()),
        r => r,
    }
}

fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
