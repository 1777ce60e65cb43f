//! Command-line actions besides `serve`: `import` and `export` move the
//! ontology document in and out of a branch; `generate` makes one.

mod generate;
mod token;

pub use generate::{generate, type_name};
pub use token::token_cmd;

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{ExportArgs, GenerateArgs, ImportArgs};
use crate::engine::{Engine, EngineOptions};
use crate::model::{Document, DocumentRef};
use crate::store;

fn bar(len: u64, quiet: bool, template: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Parse a document (streamed from disk), apply it to the branch as one
/// commit and report what changed.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let file = File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let len = file.metadata()?.len();
    let yaml = args.file.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let read = bar(len, args.quiet, "reading  {bar:40} {bytes}/{total_bytes} {elapsed}");
    let reader = read.wrap_read(BufReader::with_capacity(1 << 20, file));
    let doc: Document = tokio::task::spawn_blocking(move || -> anyhow::Result<Document> {
        Ok(if yaml { yaml_serde::from_reader(reader)? } else { serde_json::from_reader(reader)? })
    })
    .await??;
    read.finish();
    let entities: Vec<_> = doc.into_entities().collect();
    let total = entities.len();

    let engine = Engine::open(store::connect(&args.db.database_url).await?, EngineOptions::default()).await?;
    let write = bar(total as u64, args.quiet, "writing  {bar:40} {pos}/{len} rows {elapsed}");
    let progress = {
        let write = write.clone();
        Arc::new(move |n: u64| write.set_position(n))
    };
    let message = format!("import {} ({total} entities)", args.file.display());
    let committed = engine.import(&args.branch, entities, message, Some(progress)).await?;
    write.finish();
    match committed {
        Some(c) => eprintln!(
            "imported {total} entities into {}: {} changed, now at version {}",
            args.branch,
            c.commit.changes.len(),
            c.commit.version
        ),
        None => eprintln!("{} already holds exactly these {total} entities: nothing to commit", args.branch),
    }
    Ok(())
}

/// Write the branch (at its head or `--at`) as a document to stdout.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let engine = Engine::open(store::connect(&args.db.database_url).await?, EngineOptions::default()).await?;
    let view = match args.at {
        None => engine.branch(&args.branch),
        Some(at) => engine.branch_at(&args.branch, at).await?,
    }
    .with_context(|| format!("no branch {} (at {:?})", args.branch, args.at))?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut out, &DocumentRef::of(&view.state.ontology))?;
        writeln!(out)?;
        out.flush()?;
        Ok(())
    })
    .await?
}

/// Write a synthetic document to stdout.
pub fn generate_cmd(args: GenerateArgs) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    generate(args.object_types, args.seed, &mut out)?;
    out.flush()?;
    Ok(())
}
