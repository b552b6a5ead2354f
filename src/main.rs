//! The `cclake` program: the desktop app, or with a command the CLI (see `cclake::cli`).

fn main() -> anyhow::Result<()> {
    cclake::cli::main()
}
