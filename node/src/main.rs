//! `sutantra-node`: validator, streaming server and command-line client in one binary.

/// jemalloc instead of glibc's allocator: the node runs dozens of threads, and glibc keeps an
/// arena per thread that it seldom returns, which left an idle `--dev` node with about 30 MiB
/// more resident heap (`docs/benchmarks.md`).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> sc_cli::Result<()> {
	sutantra_node::command::run()
}
