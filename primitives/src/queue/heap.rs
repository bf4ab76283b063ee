//! The buffer of a [`PriorityQueue`](super::PriorityQueue): a binary
//! min-heap, the algorithm of Python's `heapq`, in a few dozen lines.
//!
//! # A heap in a vector
//!
//! The entries sit in a `Vec` read as a binary tree: the children of
//! index `i` are `2i + 1` and `2i + 2`, its parent `(i − 1) / 2`. The one
//! rule, the *heap property*, is that no entry is smaller than its parent,
//! so the smallest is at index 0. To push, append at the end and *sift
//! up*: swap with the parent while smaller than it. To pop, swap the root
//! with the last entry, *sift down* the new root (swap with its smaller
//! child while larger than it), and take the last entry. Each is
//! O(log n) comparisons.
//!
//! # Ties
//!
//! Each entry is an item and a number, ordered by the item's `Ord` and
//! then the number: new items are numbered `0, 1, 2, …` as they are put,
//! so items that compare equal come out in the order they were put (see
//! `order.rs`, "Ties in a priority queue"). Items given back are numbered
//! `−1, −2, …`, before every number given so far: first among their
//! equals.
//!
//! # Why not `std::collections::BinaryHeap`
//!
//! It would do the same job, and faster: it moves entries through a
//! "hole" instead of swapping them (with `unsafe` code, which this crate
//! forbids), and after a pop it sifts the hole to the bottom comparing
//! children only, then back up. Run through the `queue` workload of
//! `examples/hot_paths.rs` with a `PriorityQueue`, where the heap grows to
//! 100 000 items, callgrind counts 590 instructions per item with it and
//! 756 with this one. But the heap compares items with their `Ord`, which
//! is user code running under the queue's lock, and user code may panic.
//! What a panic leaves behind matters here: the queue counts items
//! (`len`, unfinished tasks, free slots), and a lost
//! item would leave a count wrong for good. `BinaryHeap` promises nothing
//! there (an `Ord` that misbehaves is a logic error, with an outcome it
//! leaves unspecified), and in fact its `pop` holds the item it takes in a
//! local while it restores the heap, so a panic there drops that item and
//! the heap is one shorter (tried with Rust 1.95). This heap only ever
//! swaps entries inside its vector, and `pop` restores the heap *before*
//! it removes the smallest entry, which waits at the end of the vector
//! meanwhile. So a comparison that panics loses nothing and duplicates
//! nothing:
//!
//! - in `push` (and `give_back`), the entry is already in the vector: the
//!   put has happened;
//! - in `pop`, the smallest entry is still in the vector: nothing was
//!   taken.
//!
//! All that can be wrong afterwards is the order: the heap property may
//! not hold where the sift stopped, so later pops may not return the
//! smallest item. Every count stays right, and the queue's protocol with
//! it.

use std::cmp::Ordering;

use super::order::{Buffer, Waits};

/// A min-heap of `(item, number)` entries; see the module docs.
pub struct PriorityBuffer<T> {
    /// The heap, as a vector: no entry is smaller than its parent.
    entries: Vec<(T, i64)>,
    /// The number of the next item put: 0, 1, 2, …
    next_new: i64,
    /// The number of the next item given back: −1, −2, …, below every
    /// number given before, so it comes out first among its equals.
    /// Neither counter can run out: at one item per nanosecond, 2⁶³
    /// numbers last 292 years.
    next_returned: i64,
}

/// Whether entry `a` comes out before entry `b`: a smaller item, or an
/// equal item with a smaller number. Uses `T`'s `Ord` (`cmp`) only.
#[inline]
fn before<T: Ord>(a: &(T, i64), b: &(T, i64)) -> bool {
    a.0.cmp(&b.0).then(a.1.cmp(&b.1)) == Ordering::Less
}

impl<T: Ord> PriorityBuffer<T> {
    /// Appends `entry` and sifts it up to its place.
    fn insert(&mut self, entry: (T, i64)) {
        self.entries.push(entry);
        let mut child = self.entries.len() - 1;
        while child > 0 {
            let parent = (child - 1) / 2;
            if !before(&self.entries[child], &self.entries[parent]) {
                break;
            }
            self.entries.swap(child, parent);
            child = parent;
        }
    }

    /// Sifts the entry at index 0 down to its place among the first `len`
    /// entries (the ones after `len` are left alone).
    fn sift_down(&mut self, len: usize) {
        let mut parent = 0;
        loop {
            let left = 2 * parent + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let smaller = if right < len && before(&self.entries[right], &self.entries[left]) {
                right
            } else {
                left
            };
            if !before(&self.entries[smaller], &self.entries[parent]) {
                break;
            }
            self.entries.swap(parent, smaller);
            parent = smaller;
        }
    }
}

impl<T: Ord> Buffer<T> for PriorityBuffer<T> {
    const NAME: &'static str = "PriorityQueue";

    fn waits() -> &'static Waits {
        static WAITS: Waits = Waits::new("PriorityQueue");
        &WAITS
    }

    fn new() -> Self {
        PriorityBuffer {
            entries: Vec::new(),
            next_new: 0,
            next_returned: -1,
        }
    }

    fn push(&mut self, item: T) {
        let number = self.next_new;
        self.next_new += 1;
        self.insert((item, number));
    }

    fn give_back(&mut self, item: T) {
        let number = self.next_returned;
        self.next_returned -= 1;
        self.insert((item, number));
    }

    fn pop(&mut self) -> Option<T> {
        let last = self.entries.len().checked_sub(1)?;
        // The smallest entry goes to the end, where it waits while the
        // heap is restored over the others: if a comparison panics, it
        // is still in the vector, not in a local the unwinding would drop.
        self.entries.swap(0, last);
        self.sift_down(last);
        self.entries.pop().map(|(item, _)| item)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    //! The heap alone: sorted output for every small input, stable ties,
    //! returned items first among equals, and nothing lost when `Ord`
    //! panics.

    use std::cell::Cell;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use super::*;

    fn drain<T: Ord>(buffer: &mut PriorityBuffer<T>) -> Vec<T> {
        std::iter::from_fn(|| buffer.pop()).collect()
    }

    /// Every sequence of up to 7 values from 0..4, pushed and popped
    /// whole, and popped after each push: exhaustive for small heaps.
    #[test]
    fn pops_every_small_input_in_sorted_order() {
        for len in 0..=7u32 {
            for code in 0..4u32.pow(len) {
                let values: Vec<u32> = (0..len).map(|i| code / 4u32.pow(i) % 4).collect();
                let mut buffer = PriorityBuffer::new();
                for &v in &values {
                    buffer.push(v);
                }
                assert_eq!(buffer.len(), values.len());
                let mut sorted = values.clone();
                sorted.sort_unstable();
                assert_eq!(drain(&mut buffer), sorted, "input {values:?}");
                assert!(buffer.pop().is_none());
            }
        }
    }

    /// Ordered by `.0` alone, so that ties show in `.1`.
    #[derive(Debug)]
    struct Job(u8, &'static str);
    impl PartialEq for Job {
        fn eq(&self, other: &Job) -> bool {
            self.0 == other.0
        }
    }
    impl Eq for Job {}
    impl PartialOrd for Job {
        fn partial_cmp(&self, other: &Job) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Job {
        fn cmp(&self, other: &Job) -> Ordering {
            self.0.cmp(&other.0)
        }
    }

    fn tags(jobs: Vec<Job>) -> Vec<&'static str> {
        jobs.into_iter().map(|job| job.1).collect()
    }

    #[test]
    fn equal_items_come_out_in_the_order_they_were_put() {
        let mut buffer = PriorityBuffer::new();
        let put = [(2, "a"), (1, "b"), (2, "c"), (1, "d"), (2, "e"), (1, "f")];
        for (priority, tag) in put {
            buffer.push(Job(priority, tag));
        }
        assert_eq!(tags(drain(&mut buffer)), ["b", "d", "f", "a", "c", "e"]);
    }

    #[test]
    fn a_returned_item_comes_first_among_its_equals() {
        let mut buffer = PriorityBuffer::new();
        buffer.push(Job(2, "new"));
        buffer.push(Job(1, "small"));
        buffer.give_back(Job(2, "returned"));
        buffer.give_back(Job(2, "returned later"));
        assert_eq!(
            tags(drain(&mut buffer)),
            ["small", "returned later", "returned", "new"]
        );
    }

    thread_local! {
        /// How many more comparisons succeed before one panics.
        static FUSE: Cell<usize> = const { Cell::new(usize::MAX) };
    }

    /// A value whose `Ord` panics once the fuse burns out.
    #[derive(Debug, PartialEq, Eq)]
    struct Touchy(u32);
    impl PartialOrd for Touchy {
        fn partial_cmp(&self, other: &Touchy) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Touchy {
        fn cmp(&self, other: &Touchy) -> Ordering {
            let left = FUSE.get();
            assert!(left > 0, "Touchy::cmp panicked on purpose");
            FUSE.set(left - 1);
            self.0.cmp(&other.0)
        }
    }

    fn filled() -> PriorityBuffer<Touchy> {
        let mut buffer = PriorityBuffer::new();
        for v in [5, 3, 8, 1, 9, 2, 7] {
            buffer.push(Touchy(v));
        }
        buffer
    }

    fn sorted(buffer: &mut PriorityBuffer<Touchy>) -> Vec<u32> {
        let mut left: Vec<u32> = drain(buffer).into_iter().map(|t| t.0).collect();
        left.sort_unstable();
        left
    }

    /// Whichever comparison of a `push` panics, the new item is in the
    /// heap, once, with all the others: the put has happened.
    #[test]
    fn a_push_whose_comparison_panics_keeps_its_item() {
        let mut panics = 0;
        for fuse in 0..4 {
            let mut buffer = filled();
            FUSE.set(fuse);
            panics +=
                usize::from(catch_unwind(AssertUnwindSafe(|| buffer.push(Touchy(0)))).is_err());
            FUSE.set(usize::MAX);
            assert_eq!(sorted(&mut buffer), [0, 1, 2, 3, 5, 7, 8, 9], "fuse {fuse}");
        }
        assert_eq!(panics, 3, "0 sifts up through 3 comparisons to the root");
    }

    /// Whichever comparison of a `pop` panics, nothing was taken: every
    /// item, the smallest included, is still in the heap, once.
    #[test]
    fn a_pop_whose_comparison_panics_takes_nothing() {
        let mut panics = 0;
        for fuse in 0..6 {
            let mut buffer = filled();
            FUSE.set(fuse);
            let popped = catch_unwind(AssertUnwindSafe(|| buffer.pop()));
            FUSE.set(usize::MAX);
            match popped {
                Ok(item) => {
                    assert_eq!(item.map(|t| t.0), Some(1));
                    assert_eq!(sorted(&mut buffer), [2, 3, 5, 7, 8, 9]);
                }
                Err(_) => {
                    panics += 1;
                    assert_eq!(sorted(&mut buffer), [1, 2, 3, 5, 7, 8, 9], "fuse {fuse}");
                }
            }
        }
        assert!(panics >= 2, "a pop of 7 entries compares at least twice");
    }
}
