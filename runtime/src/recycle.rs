//! Recycling task memory: the blocks of freed tasks, kept for the next spawn.
//!
//! Every spawn allocates one block (`task/mod.rs`) and every finished task
//! frees it when its last reference goes. With glibc's allocator that pair
//! costs about 280 instructions of the ~650 a spawn + run + join takes
//! (callgrind, 100 000 tasks): after a large allocation glibc merges its
//! free small chunks back together, so a burst of spawns carves every task
//! out of fresh memory again. Tasks come and go in bursts of the same few
//! sizes, so the runtime keeps the blocks itself: a freed block goes on a
//! free list for its size, and the next spawn of that size pops it.
//!
//! # The rules
//!
//! - **Sizes.** A task's layout is rounded up to a multiple of [`GRANULE`]
//!   (16 bytes, glibc's own granularity, so nothing is wasted) and given
//!   16-byte alignment; there is one free list per size up to
//!   [`LARGEST`] bytes. A bigger or more aligned task goes straight to the
//!   allocator. [`block_layout`] is the one place that decides, and both
//!   allocating and freeing go through it, so a block is always freed with
//!   the layout it was allocated with, cached or not.
//! - **Only on the runtime's thread.** The cache lives in the `Core`, which
//!   only its own thread can reach while the runtime runs. A task freed
//!   anywhere else (a waker dropped on another thread, a `JoinHandle`
//!   dropped outside `block_on`) is freed to the allocator as usual.
//! - **Bounded.** The cache only ever holds blocks that were tasks, so it
//!   never holds more than the most tasks that were alive at once. When the
//!   loop has nothing to do and is about to block, it gives blocks back to
//!   the allocator ([`BlockCache::trim`]: at most [`TRIM_PER_PARK`] each
//!   time, so that waking up is never delayed by much, until only
//!   [`KEEP_WHEN_IDLE`] per size are left). Dropping the runtime frees them
//!   all.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

/// Block sizes are multiples of this, and blocks are aligned to it.
pub(crate) const GRANULE: usize = 16;
/// The largest block size with a free list.
pub(crate) const LARGEST: usize = 512;
/// Free lists: one per multiple of `GRANULE` up to `LARGEST`.
const SIZES: usize = LARGEST / GRANULE;
/// Blocks per size the cache keeps when the loop goes idle.
pub(crate) const KEEP_WHEN_IDLE: usize = 64;
/// Blocks given back to the allocator per idle park, at most.
pub(crate) const TRIM_PER_PARK: usize = 1024;

/// The layout a block for `layout` is really allocated with, and its free
/// list (`None`: too big or too aligned to be cached).
fn block_layout(layout: Layout) -> (Layout, Option<usize>) {
    if layout.align() > GRANULE || layout.size() > LARGEST || layout.size() == 0 {
        return (layout, None);
    }
    let granules = layout.size().div_ceil(GRANULE);
    // Cannot fail: a multiple of 16 no bigger than LARGEST, aligned to 16.
    let block = Layout::from_size_align(granules * GRANULE, GRANULE).expect("a valid layout");
    (block, Some(granules - 1))
}

/// Allocates a block for `layout` (not zero-sized), from `cache` if it has
/// one of the right size. Aborts like `Box::new` if memory runs out.
pub(crate) fn allocate(layout: Layout, cache: Option<&BlockCache>) -> NonNull<u8> {
    debug_assert!(layout.size() > 0, "a task block is never zero-sized");
    let (block, size) = block_layout(layout);
    if let (Some(cache), Some(size)) = (cache, size) {
        if let Some(ptr) = cache.free.borrow_mut()[size].pop() {
            return ptr;
        }
    }
    // SAFETY: `block` is not zero-sized: a task always holds its header.
    let ptr = unsafe { alloc(block) };
    NonNull::new(ptr).unwrap_or_else(|| handle_alloc_error(block))
}

/// Frees a block that [`allocate`] returned for `layout`, into `cache` if
/// there is one and the size has a free list.
///
/// # Safety
///
/// `ptr` came from `allocate(layout, _)` with this same `layout`, nothing
/// uses the block any more, and it is not freed twice.
pub(crate) unsafe fn free(ptr: NonNull<u8>, layout: Layout, cache: Option<&BlockCache>) {
    let (block, size) = block_layout(layout);
    if let (Some(cache), Some(size)) = (cache, size) {
        // The block now belongs to the cache: only `allocate` hands it out
        // again, to one new owner.
        let mut free = cache.free.borrow_mut();
        free[size].push(ptr);
        if free[size].len() > KEEP_WHEN_IDLE {
            cache.over.set(true);
        }
        return;
    }
    // SAFETY: allocated by `allocate` with the same `block_layout(layout)`
    // (caller's contract), and unused from now on.
    unsafe { dealloc(ptr.as_ptr(), block) }
}

/// Freed task blocks, one free list per size. Owner thread only (it lives
/// in the `Core`).
///
/// Invariant: every pointer on list `i` is an unused block allocated with
/// `block_layout` size `(i + 1) * GRANULE` and alignment `GRANULE`, owned
/// by the cache alone.
pub(crate) struct BlockCache {
    free: RefCell<[Vec<NonNull<u8>>; SIZES]>,
    /// Some list may hold more than [`KEEP_WHEN_IDLE`] blocks (or the buffer
    /// of a list that did): `trim` has work. Without it, every park would
    /// walk all 32 lists to find nothing to do, about 600 instructions, paid
    /// twice per round trip by a request-reply loop on one runtime.
    over: Cell<bool>,
}

impl BlockCache {
    pub(crate) fn new() -> BlockCache {
        BlockCache {
            free: RefCell::new(std::array::from_fn(|_| Vec::new())),
            over: Cell::new(false),
        }
    }

    /// The loop is about to block with nothing to do: give up to
    /// [`TRIM_PER_PARK`] blocks back to the allocator, keeping
    /// [`KEEP_WHEN_IDLE`] of each size.
    pub(crate) fn trim(&self) {
        if !self.over.get() {
            return;
        }
        let mut budget = TRIM_PER_PARK;
        let mut free = self.free.borrow_mut();
        for (size, list) in free.iter_mut().enumerate() {
            while list.len() > KEEP_WHEN_IDLE && budget > 0 {
                let ptr = list.pop().expect("longer than KEEP_WHEN_IDLE");
                budget -= 1;
                // SAFETY: the list invariant: an unused block of this size and alignment,
                // owned by the cache alone, removed from the list just now.
                unsafe { dealloc(ptr.as_ptr(), Self::layout_of(size)) }
            }
            if list.len() <= KEEP_WHEN_IDLE {
                // Drained: let the list's own buffer go too (a no-op once done).
                list.shrink_to(KEEP_WHEN_IDLE);
            }
        }
        // Out of budget: some list may still be long, look again next park.
        self.over.set(budget == 0);
    }

    /// The layout every block on list `size` was allocated with.
    fn layout_of(size: usize) -> Layout {
        Layout::from_size_align((size + 1) * GRANULE, GRANULE).expect("a valid layout")
    }

    /// Blocks held, for tests.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.free.borrow().iter().map(Vec::len).sum()
    }
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        for (size, list) in self.free.get_mut().iter_mut().enumerate() {
            for ptr in list.drain(..) {
                // SAFETY: the list invariant, as in `trim`.
                unsafe { dealloc(ptr.as_ptr(), Self::layout_of(size)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up_to_the_granule_and_big_or_aligned_blocks_bypass_the_cache() {
        let (block, size) = block_layout(Layout::from_size_align(104, 8).unwrap());
        assert_eq!((block.size(), block.align(), size), (112, 16, Some(6)));
        let (block, size) = block_layout(Layout::from_size_align(LARGEST, 8).unwrap());
        assert_eq!((block.size(), size), (LARGEST, Some(SIZES - 1)));
        assert_eq!(
            block_layout(Layout::from_size_align(LARGEST + 1, 8).unwrap()).1,
            None
        );
        assert_eq!(
            block_layout(Layout::from_size_align(64, 32).unwrap()).1,
            None
        );
    }

    #[test]
    fn a_freed_block_is_handed_to_the_next_allocation_of_its_size() {
        let cache = BlockCache::new();
        let small = Layout::from_size_align(100, 8).unwrap();
        let other = Layout::from_size_align(200, 8).unwrap();
        let a = allocate(small, Some(&cache));
        // SAFETY: allocated just above with the same layout, freed once.
        unsafe { free(a, small, Some(&cache)) };
        let b = allocate(other, Some(&cache));
        assert_ne!(a, b, "a block of another size must not be reused");
        let c = allocate(small, Some(&cache));
        assert_eq!(a, c, "the freed block of the same size is reused");
        assert_eq!(cache.len(), 0);
        // SAFETY: each allocated above with its layout, freed once.
        unsafe {
            free(b, other, None);
            free(c, small, Some(&cache));
        }
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn trim_gives_back_a_bounded_number_of_blocks_and_keeps_a_few() {
        let cache = BlockCache::new();
        let layout = Layout::from_size_align(64, 8).unwrap();
        let blocks: Vec<_> = (0..TRIM_PER_PARK + 2 * KEEP_WHEN_IDLE)
            .map(|_| allocate(layout, None))
            .collect();
        for block in blocks {
            // SAFETY: each allocated above with this layout, freed once.
            unsafe { free(block, layout, Some(&cache)) };
        }
        cache.trim();
        assert_eq!(
            cache.len(),
            2 * KEEP_WHEN_IDLE,
            "one park frees TRIM_PER_PARK"
        );
        cache.trim();
        assert_eq!(cache.len(), KEEP_WHEN_IDLE);
        cache.trim();
        assert_eq!(cache.len(), KEEP_WHEN_IDLE, "a few stay for the next burst");
        // Dropping the cache frees the rest (Miri checks for leaks).
    }
}
