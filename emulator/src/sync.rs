//! Locks shared by the parts of the emulator, below all of them, so that any part may take one
//! without depending on the part that owns the lock.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex even if a handler panicked while holding it: the state is still as it was
/// between two statements, and serving on beats refusing every later request.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
