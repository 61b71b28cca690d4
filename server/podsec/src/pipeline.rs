//! An ordered, bounded parallel pipeline: items are produced on worker threads and consumed on the
//! calling thread in their order, with at most `window` items in flight, so memory holds a few items,
//! never all of them.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Condvar, Mutex, PoisonError};

/// How many pieces a producer may have sent ahead of the consumer for one item.
const PIECES_AHEAD: usize = 1;

/// The workers to use: one per core.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Default)]
struct Progress {
    /// The next item a worker takes.
    next: usize,
    /// Items the consumer is done with.
    consumed: usize,
    /// The consumer failed: take nothing more.
    stopped: bool,
}

/// How far the workers may run ahead of the consumer: at most `items` items in flight, and besides the
/// first one not yet consumed (which always may run), at most `bytes` of their `weights` (the files'
/// sizes: one large file runs alone, many small ones keep every core busy). An item without a weight
/// weighs `bytes`.
#[derive(Clone, Copy, Debug)]
pub struct Window<'w> {
    pub items: usize,
    pub weights: &'w [u64],
    pub bytes: u64,
}

impl Window<'_> {
    /// A window of `items` items, whatever their weight.
    #[cfg(test)]
    fn items(items: usize) -> Self {
        Self {
            items,
            weights: &[],
            bytes: u64::MAX,
        }
    }

    /// Whether item `next` may start while `consumed` items are done.
    fn admits(&self, consumed: usize, next: usize) -> bool {
        if next >= consumed + self.items.max(1) {
            return false;
        }
        if next == consumed {
            return true;
        }
        let weight = |i: usize| self.weights.get(i).copied().unwrap_or(self.bytes);
        let in_flight = (consumed..=next).fold(0u64, |sum, i| sum.saturating_add(weight(i)));
        in_flight <= self.bytes
    }
}

/// For each item `0..count`, `produce(index, sender)` runs on a worker and sends the item's pieces;
/// `consume(index, receiver)` runs here, in order, and reads them as they come (the receiver ends when
/// the producer is done). A worker starts an item only when the `window` admits it, and a producer
/// blocks while its consumer is behind, so only the window's items are in memory. The first error of
/// `consume` stops the pipeline and is returned.
pub fn ordered<T: Send, E>(
    count: usize,
    window: Window<'_>,
    produce: impl Fn(usize, &SyncSender<T>) + Sync,
    mut consume: impl FnMut(usize, Receiver<T>) -> Result<(), E>,
) -> Result<(), E> {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..count)
        .map(|_| {
            let (sender, receiver) = sync_channel(PIECES_AHEAD);
            (Mutex::new(Some(sender)), receiver)
        })
        .unzip();
    let progress = Mutex::new(Progress::default());
    let changed = Condvar::new();
    let lock = || progress.lock().unwrap_or_else(PoisonError::into_inner);
    std::thread::scope(|scope| {
        for _ in 0..workers().min(count) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut state = lock();
                        while !state.stopped
                            && state.next < count
                            && !window.admits(state.consumed, state.next)
                        {
                            state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
                        }
                        if state.stopped || state.next >= count {
                            return;
                        }
                        state.next += 1;
                        state.next - 1
                    };
                    let sender = senders
                        .get(index)
                        .and_then(|s| s.lock().unwrap_or_else(PoisonError::into_inner).take());
                    if let Some(sender) = sender {
                        produce(index, &sender);
                    }
                }
            });
        }
        let mut result = Ok(());
        for (index, receiver) in receivers.into_iter().enumerate() {
            // The remaining receivers are dropped on an error: a producer blocked on one is released.
            if result.is_ok() {
                result = consume(index, receiver);
            }
            let mut state = lock();
            state.consumed = index + 1;
            state.stopped |= result.is_err();
            changed.notify_all();
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn items_come_in_order_and_no_more_than_the_window_is_in_flight() {
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let result: Result<(), ()> = ordered(
            50,
            Window::items(2),
            |index, sender| {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                for piece in 0..3 {
                    let _ = sender.send((index, piece));
                }
            },
            |index, receiver| {
                let pieces: Vec<_> = receiver.iter().collect();
                assert_eq!(pieces, [(index, 0), (index, 1), (index, 2)]);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                seen.push(index);
                Ok(())
            },
        );
        assert_eq!(result, Ok(()));
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 2, "{most:?}");
    }

    #[test]
    fn a_consumer_error_stops_the_producers() {
        let produced = AtomicUsize::new(0);
        let result = ordered(
            1000,
            Window::items(2),
            |_, sender| {
                produced.fetch_add(1, Ordering::SeqCst);
                // Far more pieces than the channel holds: the producer is released by the error.
                for piece in 0..100 {
                    if sender.send(piece).is_err() {
                        return;
                    }
                }
            },
            |index, receiver| {
                let _ = receiver.recv();
                if index == 3 { Err("disk full") } else { Ok(()) }
            },
        );
        assert_eq!(result, Err("disk full"));
        assert!(produced.load(Ordering::SeqCst) <= 6);
    }

    #[test]
    fn the_window_bounds_the_bytes_in_flight_but_always_runs_the_first() {
        let window = Window {
            items: 8,
            weights: &[10, 1, 1, 30, 1, 1],
            bytes: 12,
        };
        assert!(window.admits(0, 0) && window.admits(0, 1) && window.admits(0, 2));
        assert!(!window.admits(0, 3), "10 + 1 + 1 + 30 > 12");
        assert!(window.admits(3, 3), "the first runs whatever it weighs");
        assert!(!window.admits(3, 4), "beside a heavy one, nothing");
        assert!(
            window.admits(4, 5) && !window.admits(4, 12),
            "no weight: the whole budget"
        );
        assert!(!Window::items(2).admits(0, 2));
    }
}
