//! [`AppState`]: what every handler of the emulator's router shares. Its own module so the
//! handlers (`api`, `authorize`, `admin`) and the router that mounts them (`server`) all
//! depend on it, and not on each other.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::store::Store;

/// Shared state of every handler: the one store behind one mutex.
#[derive(Clone)]
pub(crate) struct AppState {
    store: Arc<Mutex<Store>>,
}

impl AppState {
    pub(crate) fn new(store: Store) -> Self {
        Self {
            store: Arc::new(Mutex::new(store)),
        }
    }

    /// Locks the store. No code holds the lock across an `await` or panics while holding
    /// it, but a poisoned lock is still usable: the store's invariants hold between calls.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
