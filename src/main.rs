//! The `feynn` command line: a thin layer over the library (see `src/cli/`).

fn main() -> std::process::ExitCode {
    feynn_cli::run()
}

#[path = "cli/mod.rs"]
mod feynn_cli;
