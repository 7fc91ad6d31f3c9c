//! The machines the layer supports (qemux86-64, qemuarm64, qemuarm) and, for `cross`, the Rust target of each
//! with the Debian cross toolchain that links it (the same facts .ci/test.d/50-node-cross.sh relies on).

/// A Rust cross target of the node tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// 64-bit arm (qemuarm64).
    Aarch64,
    /// 32-bit arm, hard float (qemuarm: cortex-a15).
    Armv7,
    /// x86-64 (qemux86-64).
    X86_64,
}

impl Target {
    /// Every target, in the order `--target` documents them.
    pub const ALL: [Target; 3] = [Target::Aarch64, Target::Armv7, Target::X86_64];

    /// The name `--target` takes.
    pub fn name(self) -> &'static str {
        match self {
            Target::Aarch64 => "aarch64",
            Target::Armv7 => "armv7",
            Target::X86_64 => "x86_64",
        }
    }

    /// The Rust target triple (the same ones the node recipe's licence set is resolved for).
    pub fn triple(self) -> &'static str {
        match self {
            Target::Aarch64 => "aarch64-unknown-linux-gnu",
            Target::Armv7 => "armv7-unknown-linux-gnueabihf",
            Target::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }

    /// Debian's cross C compiler used as the linker (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf); the host's
    /// own `cc` for x86_64.
    pub fn debian_linker(self) -> &'static str {
        match self {
            Target::Aarch64 => "aarch64-linux-gnu-gcc",
            Target::Armv7 => "arm-linux-gnueabihf-gcc",
            Target::X86_64 => "x86_64-linux-gnu-gcc",
        }
    }

    /// The Debian package that provides [`Target::debian_linker`].
    pub fn debian_linker_package(self) -> &'static str {
        match self {
            Target::Aarch64 => "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
            Target::Armv7 => "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross",
            Target::X86_64 => "gcc-x86-64-linux-gnu libc6-dev-amd64-cross",
        }
    }

    /// qemu-user to run a binary of this target on an x86-64 host, with the library prefix that works
    /// (`-L /` for arm64: Debian's multiarch libc; the cross prefix hangs threaded programs; armhf: the cross
    /// prefix, Debian's armhf index being unreliable).
    pub fn qemu_user(self) -> Option<(&'static str, &'static str)> {
        match self {
            Target::Aarch64 => Some(("qemu-aarch64-static", "/")),
            Target::Armv7 => Some(("qemu-arm-static", "/usr/arm-linux-gnueabihf")),
            Target::X86_64 => None,
        }
    }

    /// Parses a `--target` value.
    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// A machine of the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// OE-Core's MACHINE name.
    pub name: &'static str,
    /// The node tools' target on that machine.
    pub target: Target,
}

/// The machines the layer supports, the first being the default.
pub const MACHINES: [Machine; 3] = [
    Machine { name: "qemux86-64", target: Target::X86_64 },
    Machine { name: "qemuarm64", target: Target::Aarch64 },
    Machine { name: "qemuarm", target: Target::Armv7 },
];

/// The machine of that name, or an error listing the known ones.
pub fn find(name: &str) -> crate::Result<&'static Machine> {
    MACHINES.iter().find(|m| m.name == name).ok_or_else(|| {
        let known: Vec<_> = MACHINES.iter().map(|m| m.name).collect();
        crate::Error::invalid("--machine", format!("unknown machine {name:?}; expected one of {}", known.join(", ")))
    })
}
