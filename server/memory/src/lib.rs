//! Returns freed heap memory to the operating system.
//!
//! glibc's malloc keeps what a program frees for its next allocations: each thread's arena gives pages
//! back only from its top, so a few live allocations above a large freed region (a closed 5 MB
//! document's analysis) hold it resident for good. `malloc_trim(0)` releases every free page of every
//! arena. Other allocators and platforms: nothing to do here (`false`).

/// Gives the allocator's free pages back to the operating system; whether any were released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() -> bool {
    // SAFETY: `malloc_trim` takes a plain integer (the bytes to leave untrimmed at the top of the main
    // heap), reads no pointer of ours, and is thread-safe: it takes each arena's lock in turn.
    #[allow(unsafe_code)]
    let released = unsafe { libc::malloc_trim(0) };
    released == 1
}

/// Gives the allocator's free pages back to the operating system; whether any were released.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::release_free_memory;

    /// What the server is left with after a large file is closed: many small blocks freed below one that
    /// stays, so that glibc's own trimming (from the top of the heap only) cannot give them back.
    #[test]
    fn free_pages_below_a_live_block_are_released() {
        let blocks: Vec<Vec<u8>> = (0..32_768).map(|i| vec![i as u8; 1_000]).collect();
        let fence = vec![1_u8; 1_000];
        drop(blocks);
        assert!(
            release_free_memory(),
            "32 MB freed below a live block, and nothing released"
        );
        assert_eq!(fence.len(), 1_000);
    }
}
