//! spindle: a from-scratch, minimal async runtime (facade crate; filled in by the executor work).
