//! `portcullis tag add|remove|get|find`.

use anyhow::Context as _;
use clap::Subcommand;
use portcullis_store::{Tag, TagMatch};
use serde_json::json;

use super::{print_json, with_store};
use crate::Outcome;

/// Manage hierarchical tags on (kind, id) records (py4web `Tags`).
#[derive(Debug, Subcommand)]
pub(crate) enum TagCommand {
    /// Add tags to record ID of KIND (e.g. `users 42 teacher/physics`).
    Add {
        /// The record kind: `users`, `groups` or any name of your own.
        kind: String,
        /// The record id.
        id: i64,
        /// Tags (slash-separated paths).
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Remove exactly these tags (not their descendants) from record ID of KIND.
    Remove {
        /// The record kind.
        kind: String,
        /// The record id.
        id: i64,
        /// Tags.
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Print the tags of record ID of KIND, in insertion order.
    Get {
        /// The record kind.
        kind: String,
        /// The record id.
        id: i64,
        /// Print JSON (a list of strings).
        #[arg(long)]
        json: bool,
    },
    /// Print the ids of records of KIND tagged with every TAG (or any, with --any);
    /// hierarchical: `teacher` finds `teacher/physics`. Exit 1 when nothing matches.
    Find {
        /// The record kind.
        kind: String,
        /// Tags.
        #[arg(required = true)]
        tags: Vec<String>,
        /// Match records having any of the tags instead of all of them.
        #[arg(long)]
        any: bool,
        /// Print JSON (a list of integers).
        #[arg(long)]
        json: bool,
    },
}

fn parse_tags(raw: &[String]) -> anyhow::Result<Vec<Tag>> {
    raw.iter()
        .map(|t| Tag::new(t).with_context(|| format!("invalid tag `{t}`")))
        .collect()
}

pub(crate) fn run(url: &str, cmd: TagCommand) -> anyhow::Result<Outcome> {
    with_store(url, |s| async move {
        match cmd {
            TagCommand::Add { kind, id, tags } => {
                let tags = parse_tags(&tags)?;
                let n = s.add_tags(&kind, id, &tags).await?;
                say!("added {n} tag(s) to {kind} {id}");
                Ok(Outcome::Yes)
            }
            TagCommand::Remove { kind, id, tags } => {
                let tags = parse_tags(&tags)?;
                let n = s.remove_tags(&kind, id, &tags).await?;
                say!("removed {n} tag(s) from {kind} {id}");
                Ok(Outcome::Yes)
            }
            TagCommand::Get { kind, id, json } => {
                let tags: Vec<String> = s
                    .get_tags(&kind, id)
                    .await?
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect();
                if json {
                    print_json(&json!(tags))?;
                } else {
                    for t in &tags {
                        say!("{t}");
                    }
                }
                Ok(Outcome::Yes)
            }
            TagCommand::Find {
                kind,
                tags,
                any,
                json,
            } => {
                let tags = parse_tags(&tags)?;
                let mode = if any { TagMatch::Any } else { TagMatch::All };
                let ids = s.find_tagged(&kind, &tags, mode).await?;
                if json {
                    print_json(&json!(ids))?;
                } else {
                    for id in &ids {
                        say!("{id}");
                    }
                }
                Ok(if ids.is_empty() {
                    Outcome::No
                } else {
                    Outcome::Yes
                })
            }
        }
    })
}
