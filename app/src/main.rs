fn main() -> std::process::ExitCode {
    cantine::cli::main()
}
