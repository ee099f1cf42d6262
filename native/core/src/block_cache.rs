//! The executor's decoded training blocks, kept across a fit's passes. Spark caches a block's bytes
//! (JVM memory, spilled to disk under pressure, rebuilt from lineage when lost); each pass used to copy
//! those bytes across JNI and decode them again (every level, its threshold refinement, the output
//! signature). A pass now sends only the 32-byte header: a block whose id (`block` module doc) is here
//! is used as it is, anything else is copied, decoded and offered to the cache.
//!
//! The cache holds at most its budget of decoded bytes (`set_budget`, from the JVM's
//! `spark.sparkpolicy.native.blockCacheMB`; 0 turns it off). A block that does not fit takes the room
//! of blocks unused for [`EVICT_SECS`] (a finished fit's), longest unused first, and is not cached when
//! they are not enough: under a budget smaller than a fit's blocks the first blocks stay and serve every
//! pass, where least recently used eviction would miss on every block of a cyclic scan. A block unused
//! for [`IDLE_SECS`] is dropped at the next offer, and an entry is used only when the header it is asked
//! for matches its own, so a hit is always the bytes the id names.

use crate::block::{BlockHeader, TrainingBlock};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Seconds a cached block may go unused before an offer drops it.
pub const IDLE_SECS: u64 = 300;

/// Seconds a cached block must have gone unused before it makes room for a block that does not fit:
/// longer than any pause between two passes of one fit over its blocks, far shorter than the idle expiry,
/// so a finished fit's blocks give way to the next fit's (back-to-back fits: tuning, cross-validation).
pub const EVICT_SECS: u64 = 30;

/// Decoded blocks by id, within a byte budget.
pub struct BlockCache {
    budget: usize,
    bytes: usize,
    entries: HashMap<u64, Entry>,
}

struct Entry {
    block: Arc<TrainingBlock>,
    bytes: usize,
    used: Instant,
}

/// What a cached block must match to serve a request: its header and its encoded length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub block: BlockHeader,
    pub encoded_len: usize,
}

impl Header {
    /// The header of block bytes whose first 32 bytes are `head` and whose length is `len`; None when
    /// they are not a built block's (too short, another magic, no id): those bytes are decoded as they are.
    pub fn parse(head: &[u8], len: usize) -> Option<Header> {
        BlockHeader::read(head).ok().filter(|h| h.id != 0).map(|block| Header { block, encoded_len: len })
    }

    fn of(block: &TrainingBlock) -> Header {
        Header { block: block.header(), encoded_len: block.encoded_len() }
    }
}

impl BlockCache {
    pub fn new(budget: usize) -> BlockCache {
        BlockCache { budget, bytes: 0, entries: HashMap::new() }
    }

    /// The cached block `header` names, if it matches.
    pub fn get(&mut self, header: &Header, now: Instant) -> Option<Arc<TrainingBlock>> {
        let entry = self.entries.get_mut(&header.block.id)?;
        if Header::of(&entry.block) != *header {
            return None;
        }
        entry.used = now;
        Some(entry.block.clone())
    }

    /// Keeps `block` if it has an id and fits the budget once idle entries are dropped.
    pub fn offer(&mut self, block: &Arc<TrainingBlock>, now: Instant) {
        let idle = Duration::from_secs(IDLE_SECS);
        let before = self.entries.len();
        self.entries.retain(|_, e| now.saturating_duration_since(e.used) < idle);
        if self.entries.len() != before {
            self.bytes = self.entries.values().map(|e| e.bytes).sum();
        }
        let bytes = block.encoded_len();
        if block.id == 0 || self.entries.contains_key(&block.id) || bytes > self.budget {
            return;
        }
        if self.bytes + bytes > self.budget {
            // The longest unused first, among those unused for EVICT_SECS, until the block fits.
            let evict = Duration::from_secs(EVICT_SECS);
            let mut stale: Vec<(Instant, u64)> =
                self.entries.iter().filter(|(_, e)| now.saturating_duration_since(e.used) >= evict).map(|(&id, e)| (e.used, id)).collect();
            stale.sort_unstable();
            let freeable: usize = stale.iter().map(|(_, id)| self.entries[id].bytes).sum();
            if self.bytes - freeable + bytes > self.budget {
                return;
            }
            for (_, id) in stale {
                if self.bytes + bytes <= self.budget {
                    break;
                }
                self.bytes -= self.entries.remove(&id).map_or(0, |e| e.bytes);
            }
        }
        self.bytes += bytes;
        self.entries.insert(block.id, Entry { block: block.clone(), bytes, used: now });
    }

    /// A new budget; entries beyond it are dropped (all of them for 0).
    pub fn set_budget(&mut self, budget: usize) {
        self.budget = budget;
        if self.bytes > budget {
            self.entries.clear();
            self.bytes = 0;
        }
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Until the JVM sets one: 256 MiB.
pub const DEFAULT_BUDGET: usize = 256 << 20;

static CACHE: LazyLock<Mutex<BlockCache>> = LazyLock::new(|| Mutex::new(BlockCache::new(DEFAULT_BUDGET)));

/// The process's cache (a panic elsewhere never leaves it half-updated: each change is one call).
pub fn global() -> MutexGuard<'static, BlockCache> {
    CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A block as a pass receives it: served by the cache from its header alone, or its bytes to decode.
pub enum BlockBytes {
    Cached(Arc<TrainingBlock>),
    Raw(Vec<u8>),
}

impl BlockBytes {
    /// The cached block `head` (the first 32 of `len` bytes) names, else the bytes `read` gives.
    pub fn lookup<E>(
        head: &[u8],
        len: usize,
        read: impl FnOnce() -> std::result::Result<Vec<u8>, E>,
    ) -> std::result::Result<BlockBytes, E> {
        if let Some(block) = Header::parse(head, len).and_then(|h| global().get(&h, Instant::now())) {
            return Ok(BlockBytes::Cached(block));
        }
        read().map(BlockBytes::Raw)
    }

    /// The decoded block; raw bytes of a built block are offered to the cache.
    pub fn block(self) -> crate::Result<Arc<TrainingBlock>> {
        match self {
            BlockBytes::Cached(block) => Ok(block),
            BlockBytes::Raw(bytes) => {
                let block = Arc::new(TrainingBlock::decode(&bytes)?);
                global().offer(&block, Instant::now());
                Ok(block)
            }
        }
    }
}

static BASE: LazyLock<u64> = LazyLock::new(|| std::collections::hash_map::RandomState::new().hash_one(std::process::id()));
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A block build's id: distinct within the process (a bijective mix of a counter and a random base),
/// random across processes, never 0.
pub fn fresh_id() -> u64 {
    let mut z = BASE.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::Codes;

    fn block(id: u64, rows: usize) -> Arc<TrainingBlock> {
        Arc::new(TrainingBlock {
            n_rows: rows,
            n_features: 1,
            n_arms: 1,
            shift: 0,
            codes: Codes::U8(vec![1; rows]),
            gamma: vec![2; rows],
            id,
        })
    }

    #[test]
    fn a_hit_needs_the_same_id_and_header() {
        let mut cache = BlockCache::new(1 << 20);
        let now = Instant::now();
        let b = block(5, 10);
        cache.offer(&b, now);
        let header = Header::parse(&b.encode()[..32], b.encode().len()).unwrap();
        assert!(Arc::ptr_eq(&cache.get(&header, now).unwrap(), &b));
        assert_eq!(header.encoded_len, b.encoded_len());
        assert!(cache.get(&Header { block: BlockHeader { n_rows: 11, ..header.block }, ..header }, now).is_none(), "another row count");
        assert!(cache.get(&Header { encoded_len: header.encoded_len + 8, ..header }, now).is_none(), "another length");
        assert!(cache.get(&Header { block: BlockHeader { id: 6, ..header.block }, ..header }, now).is_none(), "another id");
    }

    #[test]
    fn blocks_without_an_id_or_beyond_the_budget_are_not_kept() {
        let b = block(1, 100);
        let size = b.encoded_len();
        let mut cache = BlockCache::new(2 * size);
        let now = Instant::now();
        cache.offer(&block(0, 100), now);
        assert!(cache.is_empty(), "id 0: not a built block");
        assert!(Header::parse(&block(0, 1).encode()[..32], 48).is_none());
        cache.offer(&b, now);
        cache.offer(&block(2, 100), now);
        cache.offer(&block(3, 100), now);
        assert_eq!((cache.len(), cache.bytes()), (2, 2 * size), "the first two stay; the third does not fit");
        cache.set_budget(size);
        assert!(cache.is_empty(), "a smaller budget drops what no longer fits");
    }

    #[test]
    fn blocks_unused_for_a_while_make_room_for_a_new_fit() {
        let size = block(1, 100).encoded_len();
        let mut cache = BlockCache::new(3 * size);
        let start = Instant::now();
        for id in 1..=3 {
            cache.offer(&block(id, 100), start);
        }
        let soon = start + Duration::from_secs(EVICT_SECS - 1);
        cache.offer(&block(4, 100), soon);
        assert!(cache.get(&Header::of(&block(4, 100)), soon).is_none(), "the others are in use: no room");
        // Block 2 is used again; later, blocks 1 and 3 have gone unused long enough to give way, oldest first.
        let used = start + Duration::from_secs(EVICT_SECS);
        assert!(cache.get(&Header::of(&block(2, 100)), used).is_some());
        let later = start + Duration::from_secs(EVICT_SECS + 2);
        cache.offer(&block(4, 100), later);
        cache.offer(&block(5, 100), later);
        for (id, kept) in [(1, false), (2, true), (3, false), (4, true), (5, true)] {
            assert_eq!(cache.get(&Header::of(&block(id, 100)), later).is_some(), kept, "block {id}");
        }
        assert_eq!(cache.bytes(), 3 * size);
        // A block larger than the whole budget evicts nothing.
        cache.offer(&block(6, 400), later + Duration::from_secs(EVICT_SECS + 1));
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn idle_blocks_make_room() {
        let mut cache = BlockCache::new(1 << 20);
        let start = Instant::now();
        cache.offer(&block(1, 10), start);
        cache.offer(&block(2, 10), start);
        let h1 = Header::of(&block(1, 10));
        let later = start + Duration::from_secs(IDLE_SECS - 1);
        assert!(cache.get(&h1, later).is_some());
        cache.offer(&block(3, 10), start + Duration::from_secs(IDLE_SECS + 1));
        assert_eq!(cache.len(), 2, "block 2 went idle and was dropped; block 1 was used since");
        assert!(cache.get(&Header::of(&block(2, 10)), start + Duration::from_secs(IDLE_SECS + 1)).is_none());
    }

    #[test]
    fn fresh_ids_are_distinct_and_never_zero() {
        let ids: std::collections::HashSet<u64> = (0..10_000).map(|_| fresh_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(!ids.contains(&0));
    }

    #[test]
    fn a_block_is_read_once_then_served_from_its_header() {
        let b = TrainingBlock { id: fresh_id(), ..(*block(0, 20)).clone() };
        let bytes = b.encode();
        let mut reads = 0;
        let mut read = || -> Result<Vec<u8>, ()> {
            reads += 1;
            Ok(bytes.clone())
        };
        let first = BlockBytes::lookup(&bytes[..32], bytes.len(), &mut read).unwrap().block().unwrap();
        let second = BlockBytes::lookup(&bytes[..32], bytes.len(), &mut read).unwrap();
        assert!(matches!(second, BlockBytes::Cached(_)), "the second pass is served from the header");
        assert!(Arc::ptr_eq(&first, &second.block().unwrap()));
        assert_eq!((reads, &*first), (1, &b));
        // A block made otherwise (id 0) is decoded every time and never cached.
        let plain = block(0, 20).encode();
        for _ in 0..2 {
            let got = BlockBytes::lookup(&plain[..32], plain.len(), || Ok::<_, ()>(plain.clone())).unwrap();
            assert!(matches!(got, BlockBytes::Raw(_)));
            got.block().unwrap();
        }
    }
}
