//! `sutantra-node`: validator, streaming server and command-line client in one binary.

/// jemalloc instead of glibc's allocator: the node runs dozens of threads, and glibc keeps an
/// arena per thread that it seldom returns, which left an idle `--dev` node with about 30 MiB
/// more resident heap (`docs/benchmarks.md`).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> sc_cli::Result<()> {
	// jemalloc returns freed memory to the system from a background thread after its decay
	// time; without one it purges only when allocating, and an idle node allocates little, so
	// it kept about 65 MiB of dirty pages it no longer used (`docs/benchmarks.md`).
	#[cfg(target_os = "linux")]
	if let Err(error) = tikv_jemalloc_ctl::background_thread::write(true) {
		eprintln!("jemalloc's background purging could not be enabled ({error}); continuing");
	}
	sutantra_node::command::run()
}
