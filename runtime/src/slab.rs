//! A generational slab: a `Vec` of values that hands out small keys, reuses
//! the slots of removed values, and tells a stale key from a live one.
//!
//! The timer driver, the timer wheel and the reactor each keep a changing set
//! of records that other code names by key: a `Sleep` holds the key of its
//! timer, a wheel slot links its nodes by index, an epoll event carries the
//! key of its source. A `Vec` plus a list of free slots gives O(1) insert and
//! remove with keys that are plain indices, but slots are reused: a key kept
//! after its value was removed would silently name the next value put there.
//! A generation in the key makes that mistake visible.
//!
//! # Vocabulary
//!
//! - A **slot** is one element of the slab's `Vec`: occupied, vacant, or
//!   retired ([`SlabSlot`]).
//! - A slot's **generation** counts the values it held before the current
//!   one. A [`Key`] is a slot's index plus the generation it had when the
//!   value went in, so a key matches only the value it was made for.
//! - Removing a value moves the slot's generation on, so every key to it goes
//!   **stale**: [`Slab::get`], [`Slab::remove`] and the rest answer `None`.
//! - Vacant slots wait on the **free list**, threaded through the slots
//!   themselves. It is last in, first out, so a busy slab keeps reusing the
//!   slot it has just freed, which is still in the cache.
//!
//! # The wrap policy: an exhausted slot retires
//!
//! A generation is a `u32`, or less where a key must be packed small
//! ([`Slab::with_limits`]). When a slot at the last generation is freed,
//! there are two choices. *Wrapping* to 0 (the `slotmap` crate does, after
//! about 2^31 reuses of a slot) means that a key kept across that many reuses
//! matches again and names a stranger's value: vanishingly unlikely, but then
//! the wrong timer is cancelled or the wrong socket woken, and nothing can
//! tell. spindle **retires** the slot instead: it stays empty and off the
//! free list for the rest of the slab's life, so a stale key can never match
//! again, however long the process runs (Tor's `slotmap-careful` wraps
//! `slotmap` to do the same). The cost is one leaked slot, a few dozen bytes,
//! per 2^32 values that one slot has held: nothing, in practice. With lower
//! limits the numbers shrink with them; the reactor's keys on 32-bit targets
//! are the one such case (`reactor/mod.rs`).
//!
//! # Links by index
//!
//! The wheel threads its nodes on intrusive lists by bare `u32` index, which
//! is half the size of a key and cannot go stale while the node is on a list.
//! Indexing the slab (`slab[index]`) and [`Slab::remove_at`] serve those
//! links: they check only that the slot is occupied, and panic otherwise,
//! because a link to an empty slot is a bug in the list, not a stale key.
//!
//! # Teaching simplifications
//!
//! The slab never shrinks: a burst of a million timers keeps its memory until
//! the slab is dropped. A production runtime may compact or free a slab's
//! tail when it empties; the keys handed out stop it from moving values.

use std::mem;
use std::ops::{Index, IndexMut};

/// Names one value of a [`Slab`]; stale once that value has been removed.
///
/// Keys are compared by both parts: two keys for the same slot but different
/// values differ in `generation`. The order (index, then generation) carries
/// no meaning; it exists so that records holding a key can derive `Ord`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    /// The slot's position in the slab.
    index: u32,
    /// The slot's generation when the value was inserted.
    generation: u32,
}

impl Key {
    /// A key from its two parts, for code that must carry a key through
    /// something that is not a `Key` (the reactor packs it into `polling`'s
    /// `usize`) and rebuild it on the other side. A key made up this way is
    /// harmless: at worst it names nothing.
    pub(crate) fn from_parts(index: u32, generation: u32) -> Key {
        Key { index, generation }
    }

    /// The index of the key's slot: what a structure that links values by
    /// index stores (see the module docs).
    pub(crate) fn index(self) -> u32 {
        self.index
    }

    /// The generation of the slot that the key was made for.
    pub(crate) fn generation(self) -> u32 {
        self.generation
    }
}

/// One slot of a [`Slab`]. A slot only ever moves occupied → vacant →
/// occupied → …, until it is freed at the last generation and becomes
/// retired for good.
#[derive(Debug)]
enum SlabSlot<T> {
    /// Holds `value`; a key matches it exactly when the key's generation is
    /// `generation`. Never on the free list.
    Occupied {
        /// The generation that keys to `value` carry.
        generation: u32,
        /// The value.
        value: T,
    },
    /// Empty and on the free list; the next value stored here gets
    /// `generation`, which is one more than the last value's, so no key made
    /// before matches it.
    Vacant {
        /// The generation the next value stored here will get.
        generation: u32,
        /// The next slot on the free list, `None` at its end.
        next_free: Option<u32>,
    },
    /// Empty for good: the last value held the last generation, and a new
    /// one would repeat a key already handed out. Not on the free list.
    Retired,
}

/// A generational slab of `T`. See the module docs.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    /// Every slot ever allocated: occupied, vacant or retired.
    slots: Vec<SlabSlot<T>>,
    /// The head of the free list, threaded through the vacant slots'
    /// `next_free`.
    free: Option<u32>,
    /// The number of occupied slots.
    len: usize,
    /// The highest index a key may carry; `slots` never grows beyond it.
    max_index: u32,
    /// The highest generation a key may carry; a slot freed at it retires.
    max_generation: u32,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Slab<T> {
    /// An empty slab whose keys use the whole range of index and generation.
    pub(crate) fn new() -> Self {
        Self::with_limits(u32::MAX, u32::MAX)
    }

    /// An empty slab whose keys never carry an index above `max_index` or a
    /// generation above `max_generation`, for keys that must be packed into
    /// fewer than 64 bits. It holds at most `max_index + 1` values at once,
    /// and a slot retires after holding `max_generation + 1` values.
    pub(crate) fn with_limits(max_index: u32, max_generation: u32) -> Self {
        Slab {
            slots: Vec::new(),
            free: None,
            len: 0,
            max_index,
            max_generation,
        }
    }

    /// The number of values in the slab.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the slab holds no value.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key the next [`Slab::insert`] will return, or `None` if the slab
    /// is full: every index is occupied or retired. For a value that must
    /// contain its own key.
    pub(crate) fn vacant_key(&self) -> Option<Key> {
        match self.free {
            Some(index) => match self.slots[index as usize] {
                SlabSlot::Vacant { generation, .. } => Some(Key { index, generation }),
                _ => unreachable!("slot {index} is on the free list but not vacant"),
            },
            None => self.next_new_index().map(|index| Key {
                index,
                generation: 0,
            }),
        }
    }

    /// The index a new slot pushed now would get, if the keys have room.
    fn next_new_index(&self) -> Option<u32> {
        u32::try_from(self.slots.len())
            .ok()
            .filter(|&index| index <= self.max_index)
    }

    /// Stores `value` in a vacant slot, or a new one, in O(1), and returns
    /// its key.
    ///
    /// # Panics
    ///
    /// If the slab is full ([`Slab::vacant_key`] is `None`): 2^32 values at
    /// once for a slab from [`Slab::new`].
    pub(crate) fn insert(&mut self, value: T) -> Key {
        let key = match self.free {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                let SlabSlot::Vacant {
                    generation,
                    next_free,
                } = *slot
                else {
                    unreachable!("slot {index} is on the free list but not vacant")
                };
                self.free = next_free;
                *slot = SlabSlot::Occupied { generation, value };
                Key { index, generation }
            }
            None => {
                let index = self
                    .next_new_index()
                    .expect("the slab is full: every index its keys can name is in use or retired");
                self.slots.push(SlabSlot::Occupied {
                    generation: 0,
                    value,
                });
                Key {
                    index,
                    generation: 0,
                }
            }
        };
        self.len += 1;
        key
    }

    /// Whether `key` names a value in the slab (is not stale).
    pub(crate) fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// The value `key` names, or `None` if the key is stale.
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.index as usize)? {
            SlabSlot::Occupied { generation, value } if *generation == key.generation => {
                Some(value)
            }
            _ => None,
        }
    }

    /// The value `key` names, mutably, or `None` if the key is stale.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index as usize)? {
            SlabSlot::Occupied { generation, value } if *generation == key.generation => {
                Some(value)
            }
            _ => None,
        }
    }

    /// Removes the value `key` names and returns it, in O(1), or returns
    /// `None` if the key is stale. Every key to the value is stale
    /// afterwards.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        self.get(key)?;
        Some(self.remove_at(key.index))
    }

    /// Removes the value in slot `index`, whatever its generation, and
    /// returns it: for links by index (module docs). The slot goes on the
    /// free list with the next generation, or retires if it has none left.
    ///
    /// # Panics
    ///
    /// If slot `index` is not occupied.
    pub(crate) fn remove_at(&mut self, index: u32) -> T {
        let slot = self
            .slots
            .get_mut(index as usize)
            .unwrap_or_else(|| panic!("slab index {index} is out of bounds"));
        let freed = match *slot {
            SlabSlot::Occupied { generation, .. } if generation < self.max_generation => {
                SlabSlot::Vacant {
                    generation: generation + 1,
                    next_free: self.free,
                }
            }
            SlabSlot::Occupied { .. } => SlabSlot::Retired,
            _ => panic!("slab index {index} is not occupied"),
        };
        let vacant = matches!(freed, SlabSlot::Vacant { .. });
        let SlabSlot::Occupied { value, .. } = mem::replace(slot, freed) else {
            unreachable!("the slot was occupied a moment ago")
        };
        if vacant {
            self.free = Some(index);
        }
        self.len -= 1;
        value
    }

    /// Every value, in index order, consuming the slab.
    pub(crate) fn into_values(self) -> impl Iterator<Item = T> {
        self.slots.into_iter().filter_map(|slot| match slot {
            SlabSlot::Occupied { value, .. } => Some(value),
            _ => None,
        })
    }
}

/// The value in slot `index`, for links by index (module docs).
///
/// # Panics
///
/// If slot `index` is not occupied.
impl<T> Index<u32> for Slab<T> {
    type Output = T;

    fn index(&self, index: u32) -> &T {
        match self.slots.get(index as usize) {
            Some(SlabSlot::Occupied { value, .. }) => value,
            _ => panic!("slab index {index} is not occupied"),
        }
    }
}

/// The value in slot `index`, mutably, for links by index (module docs).
///
/// # Panics
///
/// If slot `index` is not occupied.
impl<T> IndexMut<u32> for Slab<T> {
    fn index_mut(&mut self, index: u32) -> &mut T {
        match self.slots.get_mut(index as usize) {
            Some(SlabSlot::Occupied { value, .. }) => value,
            _ => panic!("slab index {index} is not occupied"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Every way to look a key up agrees on whether it is live, and on the
    /// value.
    fn assert_lookup<T: PartialEq + std::fmt::Debug>(
        slab: &mut Slab<T>,
        key: Key,
        expected: Option<&T>,
    ) {
        assert_eq!(slab.get(key), expected, "get({key:?})");
        assert_eq!(slab.contains(key), expected.is_some(), "contains({key:?})");
        assert_eq!(
            slab.get_mut(key).map(|value| &*value),
            expected,
            "get_mut({key:?})"
        );
    }

    #[test]
    fn insert_get_remove() {
        let mut slab = Slab::new();
        assert!(slab.is_empty());
        let a = slab.insert("a");
        let b = slab.insert("b");
        assert_eq!((a.index(), a.generation()), (0, 0));
        assert_eq!((b.index(), b.generation()), (1, 0));
        assert_eq!(slab.len(), 2);
        assert_lookup(&mut slab, a, Some(&"a"));
        assert_lookup(&mut slab, b, Some(&"b"));
        *slab.get_mut(a).unwrap() = "A";
        assert_eq!(slab.remove(a), Some("A"));
        assert_eq!(slab.len(), 1);
        assert_lookup(&mut slab, a, None);
        assert_eq!(slab.remove(a), None, "removing twice");
        assert_eq!(slab.len(), 1, "a stale remove changes nothing");
        assert_lookup(&mut slab, b, Some(&"b"));
    }

    #[test]
    fn keys_beyond_the_slab_are_stale_not_a_panic() {
        let mut slab = Slab::<u8>::new();
        let key = Key::from_parts(7, 0);
        assert_lookup(&mut slab, key, None);
        assert_eq!(slab.remove(key), None);
        slab.insert(1);
        let wrong_generation = Key::from_parts(0, 1);
        assert_lookup(&mut slab, wrong_generation, None);
        assert_eq!(slab.remove(wrong_generation), None);
    }

    #[test]
    fn a_freed_slot_is_reused_last_in_first_out_with_a_new_generation() {
        let mut slab = Slab::new();
        let keys: Vec<Key> = (0..3).map(|value| slab.insert(value)).collect();
        slab.remove(keys[0]);
        slab.remove(keys[2]);
        let c = slab.insert(10);
        assert_eq!((c.index(), c.generation()), (2, 1), "the last freed slot");
        let d = slab.insert(11);
        assert_eq!((d.index(), d.generation()), (0, 1));
        let e = slab.insert(12);
        assert_eq!((e.index(), e.generation()), (3, 0), "then a new slot");
        assert_lookup(&mut slab, keys[0], None);
        assert_lookup(&mut slab, keys[2], None);
        assert_lookup(&mut slab, c, Some(&10));
        assert_lookup(&mut slab, d, Some(&11));
        assert_lookup(&mut slab, keys[1], Some(&1));
    }

    #[test]
    fn vacant_key_is_the_next_insert() {
        let mut slab = Slab::new();
        for round in 0..4 {
            let predicted = slab.vacant_key().unwrap();
            let key = slab.insert(round);
            assert_eq!(predicted, key);
            if round % 2 == 1 {
                slab.remove(key);
            }
        }
    }

    #[test]
    fn a_slot_retires_at_the_last_32_bit_generation() {
        let mut slab = Slab::new();
        let first = slab.insert(0);
        slab.remove(first);
        // Fast-forward the vacant slot to its next-to-last generation.
        slab.slots[0] = SlabSlot::Vacant {
            generation: u32::MAX - 1,
            next_free: None,
        };
        let before_last = slab.insert(1);
        assert_eq!(before_last, Key::from_parts(0, u32::MAX - 1));
        slab.remove(before_last);
        let last = slab.insert(2);
        assert_eq!(last, Key::from_parts(0, u32::MAX), "the last generation");
        assert_eq!(slab.remove(last), Some(2));
        assert!(matches!(slab.slots[0], SlabSlot::Retired));
        assert_eq!(slab.free, None, "a retired slot is not on the free list");
        for stale in [first, before_last, last] {
            assert_lookup(&mut slab, stale, None);
            assert_eq!(slab.remove(stale), None);
        }
        let next = slab.insert(3);
        assert_eq!(
            next,
            Key::from_parts(1, 0),
            "slot 0 is never handed out again"
        );
        assert_lookup(&mut slab, last, None);
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn a_slot_retires_after_max_generation_plus_one_values() {
        let mut slab = Slab::with_limits(u32::MAX, 3);
        let keys: Vec<Key> = (0..4)
            .map(|value| {
                let key = slab.insert(value);
                slab.remove(key);
                key
            })
            .collect();
        let generations: Vec<u32> = keys.iter().map(|key| key.generation()).collect();
        assert_eq!(generations, [0, 1, 2, 3]);
        assert!(keys.iter().all(|key| key.index() == 0));
        assert_eq!(slab.insert(4).index(), 1, "slot 0 retired after 4 values");
    }

    #[test]
    fn max_index_bounds_the_live_values() {
        let mut slab = Slab::with_limits(3, u32::MAX);
        let keys: Vec<Key> = (0..4).map(|value| slab.insert(value)).collect();
        assert_eq!(keys[3].index(), 3);
        assert_eq!(slab.vacant_key(), None, "four slots, all occupied");
        slab.remove(keys[1]);
        assert_eq!(slab.vacant_key(), Some(Key::from_parts(1, 1)));
        assert_eq!(slab.insert(9), Key::from_parts(1, 1));
        assert_eq!(slab.vacant_key(), None);
    }

    #[test]
    #[should_panic(expected = "the slab is full")]
    fn inserting_into_a_full_slab_panics() {
        let mut slab = Slab::with_limits(1, u32::MAX);
        slab.insert(0);
        slab.insert(1);
        slab.insert(2);
    }

    #[test]
    fn a_slab_whose_slots_all_retired_is_full_for_good() {
        // Two indices of two generations each: four keys in the slab's life.
        let mut slab = Slab::with_limits(1, 1);
        let mut keys = BTreeSet::new();
        while let Some(predicted) = slab.vacant_key() {
            let key = slab.insert(());
            assert_eq!(key, predicted);
            assert!(keys.insert(key), "{key:?} handed out twice");
            slab.remove(key);
        }
        assert_eq!(keys.len(), 4);
        assert!(slab.is_empty());
        assert!(slab
            .slots
            .iter()
            .all(|slot| matches!(slot, SlabSlot::Retired)));
    }

    #[test]
    fn limits_of_zero_give_one_slot_that_holds_one_value() {
        let mut slab = Slab::with_limits(0, 0);
        let key = slab.insert('x');
        assert_eq!(slab.vacant_key(), None);
        assert_eq!(slab.remove(key), Some('x'));
        assert_eq!(slab.vacant_key(), None, "the one slot retired");
        assert_lookup(&mut slab, key, None);
    }

    #[test]
    fn links_by_index_see_the_value_whatever_its_generation() {
        let mut slab = Slab::new();
        let first = slab.insert(1);
        slab.remove(first);
        let key = slab.insert(2);
        assert_eq!(key.index(), first.index());
        assert_eq!(slab[key.index()], 2);
        slab[key.index()] = 3;
        assert_eq!(slab.get(key), Some(&3));
        assert_eq!(slab.remove_at(key.index()), 3);
        assert_lookup(&mut slab, key, None);
        assert!(slab.is_empty());
    }

    #[test]
    #[should_panic(expected = "slab index 0 is not occupied")]
    fn indexing_a_vacant_slot_panics() {
        let mut slab = Slab::new();
        let key = slab.insert(1);
        slab.remove(key);
        let _ = slab[0];
    }

    #[test]
    #[should_panic(expected = "slab index 0 is not occupied")]
    fn remove_at_a_vacant_slot_panics() {
        let mut slab = Slab::new();
        let key = slab.insert(1);
        slab.remove(key);
        slab.remove_at(0);
    }

    #[test]
    fn into_values_yields_the_live_values_in_index_order() {
        let mut slab = Slab::new();
        let keys: Vec<Key> = (0..5).map(|value| slab.insert(value)).collect();
        slab.remove(keys[1]);
        slab.remove(keys[3]);
        assert_eq!(slab.into_values().collect::<Vec<_>>(), [0, 2, 4]);
    }

    /// One step of the property test.
    #[derive(Clone, Debug)]
    enum Op {
        /// Insert a value.
        Insert,
        /// Remove by some key handed out earlier, live or stale.
        Remove(prop::sample::Index),
    }

    proptest! {
        // No regressions file in the work tree: a failure prints its shrunk
        // input, and the tour's exercises break the runtime on purpose.
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Against a map from key to value, over a slab with tiny keys so
        /// that slots retire and the slab fills: no key is handed out twice,
        /// every handed-out key is live exactly while the model holds it,
        /// and `vacant_key` predicts every insert.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn slab_matches_a_map(
            max_index in 0..8u32,
            max_generation in 0..8u32,
            ops in prop::collection::vec(
                prop_oneof![
                    2 => Just(Op::Insert),
                    1 => any::<prop::sample::Index>().prop_map(Op::Remove),
                ],
                1..200,
            ),
        ) {
            let mut slab = Slab::with_limits(max_index, max_generation);
            let mut model: BTreeMap<Key, usize> = BTreeMap::new();
            let mut handed_out: Vec<Key> = Vec::new();
            for (value, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert => match slab.vacant_key() {
                        Some(predicted) => {
                            let key = slab.insert(value);
                            prop_assert_eq!(key, predicted);
                            prop_assert!(!handed_out.contains(&key), "{:?} twice", key);
                            prop_assert!(key.index() <= slab.max_index);
                            prop_assert!(key.generation() <= slab.max_generation);
                            handed_out.push(key);
                            model.insert(key, value);
                        }
                        None => prop_assert_eq!(
                            model.len() + retired(&slab),
                            max_index as usize + 1,
                            "full, yet some index is neither live nor retired"
                        ),
                    },
                    Op::Remove(_) if handed_out.is_empty() => {}
                    Op::Remove(pick) => {
                        let key = handed_out[pick.index(handed_out.len())];
                        prop_assert_eq!(slab.remove(key), model.remove(&key));
                    }
                }
                prop_assert_eq!(slab.len(), model.len());
                for &key in &handed_out {
                    prop_assert_eq!(slab.get(key), model.get(&key));
                }
            }
        }
    }

    /// The number of retired slots.
    fn retired(slab: &Slab<usize>) -> usize {
        slab.slots
            .iter()
            .filter(|slot| matches!(slot, SlabSlot::Retired))
            .count()
    }
}
