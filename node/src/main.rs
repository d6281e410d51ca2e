//! `sutantra-node`: validator, streaming server and command-line client in one binary.

fn main() -> sc_cli::Result<()> {
	sutantra_node::command::run()
}
