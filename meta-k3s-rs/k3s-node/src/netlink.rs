//! Just enough rtnetlink to list links and delete them, over a raw `NETLINK_ROUTE` socket.
//!
//! Hand-rolled rather than a netlink crate: the tools need two requests (`RTM_GETLINK` dump, `RTM_DELLINK`), and
//! a general netlink library would cost more binary size on the target than this whole module.

use rustix::io::Errno;
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use std::io;
use std::os::fd::OwnedFd;

const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_GROUP: u16 = 27;
const IFLA_INFO_KIND: u16 = 1;

/// One network interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Index of the bridge (or bond) the link is enslaved to.
    pub master: Option<u32>,
    /// Link type (`veth`, `bridge`, `vxlan`, `wireguard`, ...), when the driver reports one.
    pub kind: Option<String>,
    /// The link's group (0 = default).
    pub group: u32,
}

/// A `NETLINK_ROUTE` socket.
#[derive(Debug)]
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Iterates over the `(type, payload)` attributes of a netlink attribute area; stops at the first malformed one.
fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = u16_at(b, 0)? as usize;
        let ty = u16_at(b, 2)? & 0x3fff; // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
        if len < 4 || len > b.len() {
            return None;
        }
        let payload = &b[4..len];
        b = &b[align4(len).min(b.len())..];
        Some((ty, payload))
    })
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Decodes one `RTM_NEWLINK` message body (after the netlink header).
fn parse_link(body: &[u8]) -> Option<Link> {
    let index = u32_at(body, 4)?;
    let mut link = Link { index, name: String::new(), master: None, kind: None, group: 0 };
    for (ty, payload) in attrs(body.get(IFINFOMSG_LEN..)?) {
        match ty {
            IFLA_IFNAME => link.name = cstr(payload),
            IFLA_MASTER => link.master = u32_at(payload, 0),
            IFLA_GROUP => link.group = u32_at(payload, 0).unwrap_or(0),
            IFLA_LINKINFO => {
                link.kind = attrs(payload).find(|(t, _)| *t == IFLA_INFO_KIND).map(|(_, p)| cstr(p));
            }
            _ => {}
        }
    }
    Some(link)
}

impl Netlink {
    /// Opens a route netlink socket in the caller's network namespace.
    pub fn open() -> io::Result<Self> {
        // Protocol `None` is NETLINK_ROUTE (0).
        let fd = rustix::net::socket_with(AddressFamily::NETLINK, SocketType::RAW, SocketFlags::CLOEXEC, None)?;
        Ok(Netlink { fd, seq: 0 })
    }

    fn send(&mut self, ty: u16, flags: u16, ifindex: u32, group: Option<u32>) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let len = NLMSG_HDRLEN + IFINFOMSG_LEN + if group.is_some() { 8 } else { 0 };
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&ty.to_ne_bytes());
        msg.extend_from_slice(&flags.to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        // struct ifinfomsg: family AF_UNSPEC, pad, type, index, flags, change
        msg.extend_from_slice(&[0, 0, 0, 0]);
        msg.extend_from_slice(&ifindex.to_ne_bytes());
        msg.extend_from_slice(&[0; 8]);
        if let Some(group) = group {
            msg.extend_from_slice(&8u16.to_ne_bytes());
            msg.extend_from_slice(&IFLA_GROUP.to_ne_bytes());
            msg.extend_from_slice(&group.to_ne_bytes());
        }
        // Port id 0: the kernel.
        rustix::net::sendto(&self.fd, &msg, SendFlags::empty(), &SocketAddrNetlink::new(0, 0))?;
        Ok(self.seq)
    }

    /// Receives replies to `seq`, calling `each(type, body)` per message until `NLMSG_DONE` or an ack.
    fn receive(&mut self, seq: u32, mut each: impl FnMut(u16, &[u8])) -> io::Result<()> {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match rustix::net::recv(&self.fd, &mut buf[..], RecvFlags::empty()) {
                Ok((n, _)) => n,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            };
            let mut b = &buf[..n.min(buf.len())];
            while b.len() >= NLMSG_HDRLEN {
                let len = u32_at(b, 0).unwrap_or(0) as usize;
                let ty = u16_at(b, 4).unwrap_or(0);
                let mseq = u32_at(b, 8).unwrap_or(0);
                if len < NLMSG_HDRLEN || len > b.len() {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "truncated netlink message"));
                }
                let body = &b[NLMSG_HDRLEN..len];
                b = &b[align4(len).min(b.len())..];
                if mseq != seq {
                    continue;
                }
                match ty {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let errno = u32_at(body, 0).unwrap_or(0) as i32;
                        return if errno == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(-errno)) };
                    }
                    _ => each(ty, body),
                }
            }
        }
    }

    /// Every link in this network namespace.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let seq = self.send(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 0, None)?;
        let mut links = Vec::new();
        self.receive(seq, |_, body| links.extend(parse_link(body)))?;
        Ok(links)
    }

    /// Deletes the link with `index`. A link that is already gone (a veth whose peer was deleted first) is fine.
    pub fn delete(&mut self, index: u32) -> io::Result<()> {
        let seq = self.send(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, index, None)?;
        match self.receive(seq, |_, _| {}) {
            Err(e) if e.raw_os_error() == Some(Errno::NODEV.raw_os_error()) => Ok(()),
            other => other,
        }
    }

    /// Moves the link with `index` into link group `group` (`ip link set DEV group N`).
    pub fn set_group(&mut self, index: u32, group: u32) -> io::Result<()> {
        let seq = self.send(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, index, Some(group))?;
        self.receive(seq, |_, _| {})
    }

    /// Deletes every link in `group` in one request (`ip link delete group N`). The kernel unregisters them as one
    /// batch, paying the RCU grace periods of link teardown once instead of once per link.
    pub fn delete_group(&mut self, group: u32) -> io::Result<()> {
        let seq = self.send(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 0, Some(group))?;
        self.receive(seq, |_, _| {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_loopback_in_any_namespace() {
        // Every network namespace has `lo` at index 1; no privileges needed to dump links.
        let links = Netlink::open().unwrap().links().unwrap();
        let lo = links.iter().find(|l| l.name == "lo").expect("lo listed");
        assert_eq!(lo.index, 1);
    }

    #[test]
    fn malformed_attributes_stop_parsing_without_panic() {
        let mut body = vec![0u8; IFINFOMSG_LEN];
        body[4..8].copy_from_slice(&7u32.to_ne_bytes());
        body.extend_from_slice(&[200, 0, 3, 0, b'x']); // length beyond the buffer
        assert_eq!(parse_link(&body), Some(Link { index: 7, name: String::new(), master: None, kind: None, group: 0 }));
        assert_eq!(parse_link(&[1, 2, 3]), None);
    }
}
