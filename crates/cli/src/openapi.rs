//! `portcullis openapi`: prints the OpenAPI 3.1 document that `portcullis serve` answers at
//! `/auth/api/openapi.json`, without starting a server (for client generators and API
//! linters in a build).
//!
//! ```text
//! portcullis openapi [--output FILE]
//! ```

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::Outcome;

/// Arguments of `portcullis openapi`.
#[derive(Debug, Args)]
pub(crate) struct OpenapiArgs {
    /// Write the document to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: OpenapiArgs) -> anyhow::Result<Outcome> {
    let doc = portcullis_portal::openapi_document();
    let mut text = serde_json::to_string_pretty(&doc).context("cannot render the document")?;
    text.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write to standard output")?,
    }
    Ok(Outcome::Yes)
}
