//! The way into a node's HTTP server without a socket: on virtual time the
//! server listens on nothing, and whoever drives the run (a scenario's
//! `http` step) opens an in-memory connection to it instead, so a request
//! never waits on real I/O and the run replays.

/// What lets a request into the node's HTTP server in memory.
pub(crate) trait HttpDoor: Send + Sync {
    /// A connection to the server, once it serves (a process bound a
    /// path); the other end is served like an accepted socket.
    fn connect(&self) -> Option<tokio::io::DuplexStream>;
}
