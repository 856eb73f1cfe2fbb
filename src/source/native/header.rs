//! Object headers (version 2, "OHDR", with their "OCHK" continuation blocks): the list of
//! messages that describe a group or a dataset. Version-1 headers are declined: NetCDF-4 files
//! track attribute creation order, which only version-2 headers record.
//! Reference: HDF5 File Format Specification 3.0, section IV.A.1.b.

use super::bytes::{Cursor, Source};
use super::checksum;
use crate::source::Declined;

pub const DATASPACE: u8 = 0x01;
pub const LINK_INFO: u8 = 0x02;
pub const DATATYPE: u8 = 0x03;
pub const FILL_VALUE: u8 = 0x05;
pub const LINK: u8 = 0x06;
pub const EXTERNAL_FILES: u8 = 0x07;
pub const LAYOUT: u8 = 0x08;
pub const PIPELINE: u8 = 0x0B;
pub const ATTRIBUTE: u8 = 0x0C;
pub const CONTINUATION: u8 = 0x10;
pub const SYMBOL_TABLE: u8 = 0x11;
pub const ATTRIBUTE_INFO: u8 = 0x15;

/// Bounds on continuation blocks (a cycle would loop forever) and on a header's bytes.
const MAX_BLOCKS: usize = 1000;
const MAX_BYTES: u64 = 16 << 20;

/// One header message.
pub struct Message {
    pub kind: u8,
    pub flags: u8,
    /// Creation order, when the header tracks it.
    pub order: Option<u16>,
    pub body: Vec<u8>,
}

impl Message {
    /// Shared messages live elsewhere (the shared-message table): not read here.
    pub fn shared(&self) -> bool {
        self.flags & 0x02 != 0
    }
}

/// A parsed object header.
pub struct Header {
    pub messages: Vec<Message>,
}

impl Header {
    pub fn first(&self, kind: u8) -> Option<&Message> {
        self.messages.iter().find(|m| m.kind == kind)
    }

    pub fn all(&self, kind: u8) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(move |m| m.kind == kind)
    }
}

/// Read the object header at `addr`.
pub fn read(src: &Source<'_>, addr: u64) -> Result<Header, Declined> {
    let prefix = src.read(addr, 6)?;
    if &prefix[..4] != b"OHDR" || prefix[4] != 2 {
        return Err(Declined::Unsupported(format!("object header at {addr} is not version 2")));
    }
    let flags = prefix[5];
    let tracks_order = flags & 0x04 != 0;
    let fixed = 6 + if flags & 0x20 != 0 { 16 } else { 0 } + if flags & 0x10 != 0 { 4 } else { 0 };
    let width = 1usize << (flags & 0x03);
    let start = src.read(addr, (fixed + width) as u64)?;
    let size = Cursor { bytes: &start, at: fixed }.uint(width)?;
    // (structure address, its length with the checksum, where its messages start)
    let first = ((fixed + width) as u64).checked_add(size).and_then(|n| n.checked_add(4));
    let mut blocks = vec![(addr, first.ok_or("object header too large")?, fixed + width)];
    let mut messages = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut bytes = 0u64;
    while let Some((at, len, skip)) = blocks.pop() {
        // each block once; the total bounded
        bytes = bytes.saturating_add(len);
        if !seen.insert(at) || seen.len() > MAX_BLOCKS || bytes > MAX_BYTES {
            return Err("object header with repeated, too many or too large blocks".into());
        }
        let block = src.read(at, len)?;
        if skip == 4 && block.get(..4) != Some(b"OCHK".as_slice()) {
            return Err("continuation block without its signature".into());
        }
        checksum::verify(&block, "object header")?;
        let mut c = Cursor::new(block.get(skip..block.len() - 4).ok_or("short header block")?);
        let head = 4 + if tracks_order { 2 } else { 0 };
        while c.rest().len() >= head {
            let kind = c.u8()?;
            let len = usize::from(c.u16()?);
            let mflags = c.u8()?;
            let order = if tracks_order { Some(c.u16()?) } else { None };
            let body = c.take(len)?.to_vec();
            if kind == CONTINUATION {
                let mut b = Cursor::new(&body);
                let (caddr, clen) = (b.u64()?, b.u64()?);
                // signature first, checksum last
                if clen < 8 {
                    return Err("short continuation block".into());
                }
                blocks.push((caddr, clen, 4));
            } else {
                messages.push(Message { kind, flags: mflags, order, body });
            }
        }
    }
    Ok(Header { messages })
}
