//! Placeholder: lab file loading.
use crate::model::Directory;
pub fn parse_str(text: &str, _name: &str) -> Result<Directory, String> { serde_yaml_ng::from_str(text).map_err(|e| e.to_string()) }
