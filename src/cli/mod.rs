//! Command-line actions besides `serve`: `import` and `export` move the
//! ontology document, or an OBO or OWL file (`formats`), in and out of a
//! branch; `generate` makes a document.

mod generate;
mod token;

pub use generate::{generate, type_name};
pub use token::token_cmd;

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{AbsentEntities, ExportArgs, FileFormat, GenerateArgs, ImportArgs};
use crate::engine::{Engine, EngineOptions};
use crate::formats;
use crate::model::{Absent, Document, DocumentRef};
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

/// Parse a document or an ontology file (streamed from disk), apply it to
/// the branch as one commit and report what changed.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let file = File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let len = file.metadata()?.len();
    let format = args.format.unwrap_or_else(|| FileFormat::of_path(&args.file));
    let absent = match (args.absent, format) {
        (Some(AbsentEntities::Keep), _) | (None, FileFormat::Json | FileFormat::Yaml) => Absent::Keep,
        (Some(AbsentEntities::Delete), _) => Absent::Delete,
        (Some(AbsentEntities::Obsolete), _) | (None, FileFormat::Obo | FileFormat::Owl) => Absent::Obsolete,
    };
    let read = bar(len, args.quiet, "reading  {bar:40} {bytes}/{total_bytes} {elapsed}");
    let reader = read.wrap_read(BufReader::with_capacity(1 << 20, file));
    let name = args.file.display().to_string();
    let (entities, summary) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let reader = BufReader::with_capacity(1 << 16, reader);
        Ok(match format {
            FileFormat::Json => (serde_json::from_reader::<_, Document>(reader)?.into_entities().collect(), None),
            FileFormat::Yaml => (yaml_serde::from_reader::<_, Document>(reader)?.into_entities().collect(), None),
            FileFormat::Obo => {
                let (entities, summary) = formats::obo::read(reader, &name)?;
                (entities, Some(summary))
            }
            FileFormat::Owl => {
                let (entities, summary) = formats::owl::read(reader, &name)?;
                (entities, Some(summary))
            }
        })
    })
    .await??;
    read.finish();
    let entities: Vec<_> = entities;
    let total = entities.len();
    if let Some(s) = &summary {
        eprintln!("read {}: {s}", args.file.display());
        if let Some(first) = s.repaired.first() {
            eprintln!(
                "note: {} xref(s) with an unescaped space in the id (line {first}{}) were read with the space escaped",
                s.repaired.len(),
                if s.repaired.len() > 1 { ", …" } else { "" }
            );
        }
        if s.dropped_qualifiers > 0 {
            eprintln!(
                "note: {} qualifier lists on name/is_a/relationship/intersection_of/is_obsolete lines were not kept",
                s.dropped_qualifiers
            );
        }
    }

    // The checkpoint is written below, in the foreground: a background one
    // would be cut off when the command exits.
    let opts = EngineOptions { checkpoint_changes: 0, ..EngineOptions::default() };
    let engine = Engine::open(store::connect(&args.db.database_url).await?, opts).await?;
    let write = bar(total as u64, args.quiet, "writing  {bar:40} {pos}/{len} rows {elapsed}");
    let progress = {
        let write = write.clone();
        Arc::new(move |n: u64| write.set_position(n))
    };
    let message = format!("import {} ({total} entities)", args.file.display());
    let committed = match absent {
        Absent::Keep => engine.import(&args.branch, entities, message, Some(progress)).await?,
        absent => engine.import_release(&args.branch, entities, absent, message, Some(progress)).await?,
    };
    write.finish();
    match committed {
        Some(c) => {
            eprintln!(
                "imported {total} entities into {}: {} changed, now at version {}",
                args.branch,
                c.commit.changes.len(),
                c.commit.version
            );
            // The next start decodes this instead of reading every row (a fork is not checkpointed).
            if let Some(v) = engine.checkpoint(&args.branch).await? {
                eprintln!("checkpoint of {} written at version {v}", args.branch);
            }
        }
        None => eprintln!("{} already holds exactly these {total} entities: nothing to commit", args.branch),
    }
    Ok(())
}

/// Write the branch (at its head or `--at`) to stdout: as a document
/// (JSON), an OBO file or OWL (Turtle).
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let opts = EngineOptions { checkpoint_changes: 0, ..EngineOptions::default() };
    let engine = Engine::open(store::connect(&args.db.database_url).await?, opts).await?;
    let view = match args.at {
        None => engine.branch(&args.branch),
        Some(at) => engine.branch_at(&args.branch, at).await?,
    }
    .with_context(|| format!("no branch {} (at {:?})", args.branch, args.at))?;
    let format = args.format;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let o = &view.state.ontology;
        let summary = match format {
            FileFormat::Json => {
                serde_json::to_writer_pretty(&mut out, &DocumentRef::of(o))?;
                writeln!(out)?;
                None
            }
            FileFormat::Yaml => anyhow::bail!("export writes json, obo or owl"),
            FileFormat::Obo => Some(formats::obo::write(o, &mut out)?),
            FileFormat::Owl => Some(formats::owl::write(o, &mut out)?),
        };
        out.flush()?;
        if let Some(s) = summary {
            eprintln!("wrote {s}");
            if s.dropped_properties > 0 {
                eprintln!(
                    "note: {} properties and implements entries have no OBO/OWL form and were not written",
                    s.dropped_properties
                );
            }
        }
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
