//! Networking on the reactor: TCP and UDP (filled in by the reactor work).
