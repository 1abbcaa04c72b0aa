//! Per-thread pool of I/O buffers (HAProxy's `pool_head_buffer`): a connection takes a buffer
//! only while it has bytes to hold and gives it back when idle, so idle keep-alive connections
//! cost no buffer memory and the hot path does not allocate once the pool is warm.

use std::cell::RefCell;

/// Buffers kept per thread beyond which returned ones are freed.
const POOL_MAX: usize = 1024;

thread_local! {
    static POOL: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// A byte buffer with a read window `[start, end)`; returns its storage to the thread's pool
/// on drop.
pub struct Buf {
    data: Option<Box<[u8]>>,
    size: usize,
    pub start: usize,
    pub end: usize,
}

impl Buf {
    /// An empty handle: no storage until [`Buf::ensure`].
    pub fn new(size: usize) -> Buf {
        Buf {
            data: None,
            size,
            start: 0,
            end: 0,
        }
    }

    /// Makes sure storage is attached (from the pool when possible).
    pub fn ensure(&mut self) {
        if self.data.is_none() {
            let size = self.size;
            let got = POOL.with(|p| {
                let mut p = p.borrow_mut();
                p.iter()
                    .rposition(|b| b.len() == size)
                    .map(|i| p.swap_remove(i))
            });
            self.data = Some(got.unwrap_or_else(|| vec![0u8; size].into_boxed_slice()));
        }
    }

    /// Gives the storage back if no bytes are held (idle connection).
    pub fn release_if_empty(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if let Some(b) = self.data.take() {
                give_back(b);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// The held bytes.
    pub fn data(&self) -> &[u8] {
        match &self.data {
            Some(d) => &d[self.start..self.end],
            None => &[],
        }
    }

    /// Marks `n` held bytes as consumed.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Moves held bytes to the front so the free tail is as large as possible.
    pub fn compact(&mut self) {
        if self.start > 0 {
            if let Some(d) = self.data.as_mut() {
                d.copy_within(self.start..self.end, 0);
            }
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// The free tail to read into (attaches storage first).
    pub fn spare(&mut self) -> &mut [u8] {
        self.ensure();
        if self.end == self.size {
            self.compact();
        }
        match self.data.as_mut() {
            Some(d) => &mut d[self.end..],
            None => &mut [],
        }
    }

    /// Records `n` bytes read into [`Buf::spare`].
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.size);
    }

    pub fn is_full(&self) -> bool {
        self.start == 0 && self.end == self.size
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        if let Some(b) = self.data.take() {
            give_back(b);
        }
    }
}

thread_local! {
    static VECS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A cleared scratch vector from the thread's pool (for building heads to send).
pub fn take_vec() -> Vec<u8> {
    VECS.with(|p| p.borrow_mut().pop()).unwrap_or_default()
}

/// Returns a scratch vector to the pool; oversized ones are freed so one huge head does not
/// pin memory forever.
pub fn give_vec(mut v: Vec<u8>) {
    if v.capacity() == 0 || v.capacity() > 64 * 1024 {
        return;
    }
    v.clear();
    let _ = VECS.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_MAX {
            p.push(v);
        }
    });
}

fn give_back(b: Box<[u8]>) {
    // `try_with`: during thread teardown the pool may already be gone; then just free.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_MAX {
            p.push(b);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_buffer_returns_storage_and_reuses_it() {
        let mut b = Buf::new(64);
        b.spare()[..3].copy_from_slice(b"abc");
        b.filled(3);
        assert_eq!(b.data(), b"abc");
        b.release_if_empty();
        assert_eq!(b.data(), b"abc", "bytes held: storage must stay");
        b.consume(3);
        b.release_if_empty();
        assert!(b.data.is_none());
        let mut c = Buf::new(64);
        c.ensure();
        assert!(c.data.is_some());
    }

    #[test]
    fn compact_moves_tail_to_front() {
        let mut b = Buf::new(8);
        b.spare()[..8].copy_from_slice(b"12345678");
        b.filled(8);
        b.consume(6);
        assert!(!b.is_full());
        assert_eq!(b.spare().len(), 6, "a full tail compacts before reading");
        assert_eq!(b.data(), b"78");
    }
}
