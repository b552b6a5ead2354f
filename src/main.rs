//! The `cclake` program: the desktop app, or with a command the CLI (see `cclake::cli`).

fn main() {
    if let Err(e) = cclake::cli::main() {
        // As Rust prints an error returned from `main`, with control characters from file
        // names or data escaped (they must not reach the terminal as commands).
        eprintln!(
            "Error: {}",
            cclake::format::escape_control(&format!("{e:?}"))
        );
        std::process::exit(1);
    }
}
