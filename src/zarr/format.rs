//! Which Zarr version a store is spelled in, and (v3) how its chunks are grouped into shards.

/// The Zarr format of the stores served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ZarrFormat {
    /// `.zgroup`/`.zarray`/`.zattrs`/`.zmetadata`, `3.0.1` chunk keys.
    #[default]
    V2,
    /// `zarr.json` per node, `c/3/0/1` chunk keys; `shard_bytes` > 0 groups the chunks of an
    /// array into `sharding_indexed` shards of at most that many (uncompressed) bytes, 0
    /// serves every chunk as a file of its own.
    V3 { shard_bytes: u64 },
}

impl ZarrFormat {
    /// The default shard size of v3 stores (256 MiB).
    pub const DEFAULT_SHARD_BYTES: u64 = 256 << 20;

    /// 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            ZarrFormat::V2 => 2,
            ZarrFormat::V3 { .. } => 3,
        }
    }
}
