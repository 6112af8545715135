//! The `tickproof` binary: a thin shell over the library's [`tickproof::cli`].
fn main() {
    std::process::exit(tickproof::cli::main());
}
