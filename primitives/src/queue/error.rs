//! The errors of a queue ([`Queue`](super::Queue) and its two other
//! orders): what the non-waiting
//! operations return instead of waiting, and `task_done` misuse.

use std::error::Error;
use std::fmt;

/// The error of [`put_nowait`](super::GenericQueue::put_nowait) on a full queue; holds the item.
///
/// # Examples
///
/// ```
/// let queue = spindle::Queue::bounded(1);
/// queue.put_nowait("kept").unwrap();
/// let err = queue.put_nowait("returned").unwrap_err();
/// assert_eq!(err.to_string(), "queue is full");
/// assert_eq!(err.into_inner(), "returned");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueFull<T>(pub(super) T);

impl<T> QueueFull<T> {
    /// The item that could not be put.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::bounded(1);
    /// queue.put_nowait(1).unwrap();
    /// assert_eq!(queue.put_nowait(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

// Not derived: the item need not be `Debug` for the error to be.
impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is full")
    }
}

impl<T> Error for QueueFull<T> {}

/// The error of [`get_nowait`](super::GenericQueue::get_nowait) when no item is available.
///
/// # Examples
///
/// ```
/// use spindle::{Queue, QueueEmpty};
///
/// let err = Queue::<u8>::new().get_nowait().unwrap_err();
/// assert_eq!(err, QueueEmpty);
/// assert_eq!(err.to_string(), "queue is empty");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueEmpty;

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is empty")
    }
}

impl Error for QueueEmpty {}

/// The error of [`task_done`](super::GenericQueue::task_done) called more times than items were put.
///
/// # Examples
///
/// ```
/// let queue = spindle::Queue::<u8>::new();
/// let err = queue.task_done().unwrap_err();
/// assert_eq!(err.to_string(), "task_done() called more times than items were put");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put")
    }
}

impl Error for TaskDoneError {}
