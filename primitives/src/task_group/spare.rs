//! Spare buffers: the queues and tables of ended task groups, kept on
//! their thread for the next group.
//!
//! A group's bookkeeping grows with its children: the inbox of children
//! spawned and not yet started, and the table of their results. A group
//! of a thousand children grows each to a thousand entries, doubling ten
//! times on the way — and with glibc's allocator a large allocation
//! first merges every free small chunk back together
//! (`malloc_consolidate`), so the thousand child futures that follow are
//! carved out of fresh memory instead of the chunks the last group freed.
//! Measured with callgrind on `hot_paths group` (1 000 empty children per
//! group), that was about a third of the instructions per child. Groups
//! come in bursts of similar sizes, so an ended group's buffers, emptied,
//! go on a short per-thread list and the next group takes them, with their
//! capacity: in the steady state a group allocates nothing but its
//! children. (The runtime does the same for task blocks, `recycle.rs`;
//! that needs `unsafe`, this does not: it keeps whole, typed buffers.)
//!
//! Bounded: at most [`KEEP`] buffers per thread, none with room for more
//! than [`LARGEST`] entries, and only empty ones — a buffer is emptied
//! (its contents dropped, which may run user code) before it is offered.

use std::any::Any;
use std::cell::RefCell;

/// How many spare buffers a thread keeps: enough for a few groups' worth
/// (each has three), so nested or successive groups find theirs.
const KEEP: usize = 12;

/// The largest capacity kept, in entries (each a few dozen bytes): a
/// buffer that grew past it, for a group of more than 4 Ki children, goes
/// back to the allocator rather than sit unused. So a thread keeps at most
/// about `KEEP` × 4 Ki × 40 bytes, 2 MB, and usually far less.
const LARGEST: usize = 1 << 12;

thread_local! {
    /// Empty buffers of any type, each boxed as `dyn Any`.
    static SPARE: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer kept for reuse: knows its capacity and how to empty itself.
pub(super) trait Buffer: Any + Default {
    /// Room, in entries.
    fn capacity(&self) -> usize;
    /// Drops every entry, keeping the allocation.
    fn clear(&mut self);
}

/// A spare buffer of type `B` (empty, with the capacity it had), or a new
/// one.
pub(super) fn take<B: Buffer>() -> B {
    let found = SPARE
        .try_with(|spare| {
            let mut spare = spare.borrow_mut();
            let index = spare.iter().position(|b| b.is::<B>())?;
            Some(spare.swap_remove(index))
        })
        .ok()
        .flatten();
    match found.map(|b| b.downcast::<B>()) {
        Some(Ok(buffer)) => *buffer,
        _ => B::default(),
    }
}

/// Offers `buffer` for reuse on this thread: emptied first, then kept if
/// there is room and it is not too large, else dropped.
pub(super) fn give<B: Buffer>(mut buffer: B) {
    buffer.clear(); // user code may run: before the list is borrowed
    if buffer.capacity() == 0 || buffer.capacity() > LARGEST {
        return;
    }
    // `try_with`: a group dropped while its thread exits just frees.
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut() {
            if spare.len() < KEEP {
                spare.push(Box::new(buffer));
            }
        }
    });
}

impl<T: 'static> Buffer for std::collections::VecDeque<T> {
    fn capacity(&self) -> usize {
        std::collections::VecDeque::capacity(self)
    }

    fn clear(&mut self) {
        std::collections::VecDeque::clear(self);
    }
}
