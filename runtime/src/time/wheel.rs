//! TEMPORARY stand-in with the wheel's API (replaced by the real wheel).
#![allow(dead_code)]
use std::collections::BTreeMap;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key(u64);
pub(crate) struct Wheel<T> { map: BTreeMap<(u64, u64), T>, whens: std::collections::HashMap<u64, u64>, next: u64, elapsed: u64 }
impl<T> Wheel<T> {
    pub(crate) fn new() -> Self { Wheel { map: BTreeMap::new(), whens: Default::default(), next: 0, elapsed: 0 } }
    pub(crate) fn elapsed(&self) -> u64 { self.elapsed }
    pub(crate) fn len(&self) -> usize { self.map.len() }
    pub(crate) fn is_empty(&self) -> bool { self.map.is_empty() }
    pub(crate) fn insert(&mut self, when: u64, value: T) -> Key { self.next += 1; self.map.insert((when, self.next), value); self.whens.insert(self.next, when); Key(self.next) }
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> { let when = self.whens.remove(&key.0)?; self.map.remove(&(when, key.0)) }
    pub(crate) fn get(&self, key: Key) -> Option<&T> { let when = self.whens.get(&key.0)?; self.map.get(&(*when, key.0)) }
    pub(crate) fn next_expiration(&self) -> Option<u64> { self.map.keys().next().map(|k| k.0) }
    pub(crate) fn advance(&mut self, now: u64, mut expired: impl FnMut(u64, T)) {
        self.elapsed = self.elapsed.max(now);
        while let Some(entry) = self.map.first_entry() { if entry.key().0 > now { break } let ((when, seq), v) = entry.remove_entry(); self.whens.remove(&seq); expired(when, v); }
    }
}
