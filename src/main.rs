use clap::Parser;
use ontograph::config::{Cli, Command};

// A response of a thousand traversal nodes is thousands of small
// allocations; mimalloc makes them several times cheaper than glibc's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    ontograph::telemetry::init(cli.log_format);
    match cli.command {
        None => ontograph::http::serve(cli.serve).await,
        Some(Command::Serve(args)) => ontograph::http::serve(args).await,
        Some(Command::Import(args)) => ontograph::cli::import(args).await,
        Some(Command::Export(args)) => ontograph::cli::export(args).await,
        Some(Command::Generate(args)) => ontograph::cli::generate_cmd(args),
        Some(Command::Token(cmd)) => ontograph::cli::token_cmd(cmd).await,
        Some(Command::Schema) => {
            print!("{}", ontograph::api::sdl());
            Ok(())
        }
    }
}
