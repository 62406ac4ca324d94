//! The kinds of YAML file hma-lab reads — scenario files, combined lab files and each service's
//! own lab file — with their JSON Schemas (draft 2020-12) and the linting of a file as its kind.
//!
//! Every schema is derived by `schemars` from the very serde types the parsers read (hand-written
//! parsers describe themselves beside the parser: `scenario/schema.rs`, `lab/file.rs`), so an
//! editor that completes a file from its schema and `hma-lab lint` judge the same structure. The
//! schemas are checked in under `schemas/` (`tests/it/schemas.rs` keeps them up to date) and
//! printed by `hma-lab schema KIND`. A file says which kind it is on its first line, the
//! yaml-language-server modeline (`# yaml-language-server: $schema=…/lab.schema.json`); that
//! one line is also how `lint` picks the parser, so the editor and the linter cannot disagree
//! on what a file is. A file without one is a scenario, as before schemas existed.

use std::path::{Path, PathBuf};

use lab_kit::FileError;

/// A kind of YAML file, named as `hma-lab schema` and the schema files name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A combined lab file (`hma-lab serve --lab`, a scenario's `lab:`).
    Lab,
    /// A scenario file (`hma-lab run`, `hma-lab lint`).
    Scenario,
    /// A mock-aad lab file: an Azure AD directory.
    AadLab,
    /// A mock-exchange lab file: an Exchange organization.
    ExchangeLab,
    /// A mock-adfs lab file: an ADFS farm.
    AdfsLab,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Lab,
        Kind::Scenario,
        Kind::AadLab,
        Kind::ExchangeLab,
        Kind::AdfsLab,
    ];

    /// `lab`, `scenario`, `aad-lab`, `exchange-lab`, `adfs-lab`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lab => "lab",
            Kind::Scenario => "scenario",
            Kind::AadLab => "aad-lab",
            Kind::ExchangeLab => "exchange-lab",
            Kind::AdfsLab => "adfs-lab",
        }
    }

    /// The schema's file name under `schemas/`: `lab.schema.json`.
    pub fn file_name(self) -> String {
        format!("{}.schema.json", self.name())
    }

    /// The JSON Schema of this kind of file.
    pub fn schema(self) -> schemars::Schema {
        match self {
            Kind::Lab => crate::lab::file::schema(),
            Kind::Scenario => lab_kit::schema::finish(
                schemars::schema_for!(crate::scenario::format::Scenario),
                "hma-lab scenario file",
            ),
            Kind::AadLab => mock_aad::labfile::schema(),
            Kind::ExchangeLab => mock_exchange::labfile::schema(),
            Kind::AdfsLab => mock_adfs::labfile::schema(),
        }
    }

    /// The schema as checked in and printed: pretty JSON and a final newline.
    pub fn render(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The kind a file's modeline names (the schema file's name ends its first line), if any.
    pub fn of_text(text: &str) -> Option<Kind> {
        let first = text.lines().next()?;
        let target = first.strip_prefix(lab_kit::schema::MODELINE)?.trim();
        let file = target.rsplit('/').next().unwrap_or(target);
        Kind::ALL.into_iter().find(|k| k.file_name() == file)
    }

    /// Parses and checks the file at `path` as this kind, exactly as the commands that use it do.
    pub fn check_file(self, path: &Path) -> Result<(), FileError> {
        match self {
            Kind::Scenario => crate::scenario::format::load(path).map(drop),
            Kind::Lab => crate::lab::file::LabFile::load(path).map(drop),
            Kind::AadLab => mock_aad::labfile::load(path).map(drop),
            Kind::ExchangeLab => mock_exchange::labfile::load(path).map(drop),
            Kind::AdfsLab => mock_adfs::labfile::load(path).map(drop),
        }
    }
}

/// Lints one file as the kind its modeline names (a scenario when it names none).
pub fn lint_file(path: &Path) -> Result<(), FileError> {
    let text = lab_kit::labfile::read_text(path, "file")?;
    Kind::of_text(&text)
        .unwrap_or(Kind::Scenario)
        .check_file(path)
}

/// `hma-lab lint`: the files named or found under `paths` (directories give their scenario
/// files, `labs/` skipped), each linted as its kind. Returns how many and the errors.
pub fn lint_paths(paths: &[PathBuf]) -> Result<(usize, Vec<FileError>), String> {
    let files = crate::scenario::format::discover(paths)?;
    let errors: Vec<_> = files.iter().filter_map(|f| lint_file(f).err()).collect();
    Ok((files.len(), errors))
}
