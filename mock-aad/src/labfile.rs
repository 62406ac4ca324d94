//! Placeholder: lab file loading (semantic validation comes with the admin work).
use crate::model::Directory;
pub use lab_kit::FileError;
pub fn parse_str(text: &str, name: &str) -> Result<Directory, FileError> {
    lab_kit::parse_yaml(text, name)
}
