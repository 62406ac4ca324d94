//! Golden files: an answer compared byte for byte with a checked-in file, which a person reviews
//! in `git diff` when it changes on purpose.
//!
//! One switch for the whole workspace: `UPDATE_GOLDEN=1` rewrites the files a test run compares
//! instead of comparing them. A mismatch panics with a line diff ([`super::diff`]) and the exact
//! command that accepts the new output. A crate names its folder once, with
//! [`golden_dir!`](crate::golden_dir), which records the crate's package name for that command.

use std::path::{Path, PathBuf};

/// The environment variable that turns comparison into rewriting (value `1`).
pub const UPDATE_VAR: &str = "UPDATE_GOLDEN";

/// A folder of golden files, e.g. `mock-aad/tests/golden/`.
#[derive(Debug, Clone, Copy)]
pub struct Golden {
    package: &'static str,
    dir: &'static str,
}

/// `Golden` for `<crate>/<sub>` of the crate that expands it:
/// `const GOLDEN: Golden = lab_kit::golden_dir!("tests/golden/shell");`.
#[macro_export]
macro_rules! golden_dir {
    ($sub:literal) => {
        $crate::testkit::golden::Golden::new(
            env!("CARGO_PKG_NAME"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/", $sub),
        )
    };
}

impl Golden {
    /// Golden files of package `package` in the absolute folder `dir`.
    pub const fn new(package: &'static str, dir: &'static str) -> Golden {
        Golden { package, dir }
    }

    /// The file `name` in this folder (`name` may hold subfolders).
    pub fn path(&self, name: &str) -> PathBuf {
        Path::new(self.dir).join(name)
    }

    /// Compares `actual` with the file `name`, or writes it under `UPDATE_GOLDEN=1`.
    #[track_caller]
    pub fn check(&self, name: &str, actual: impl AsRef<[u8]>) {
        let path = self.path(name);
        let actual = actual.as_ref();
        if updating() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            }
            std::fs::write(&path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            return;
        }
        let expected = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => panic!(
                "golden file {}: {e}\nto create it: {}",
                path.display(),
                self.update_command()
            ),
        };
        if expected != actual {
            panic!(
                "golden file {} differs from this run (- golden, + actual):\n{}\nif the change is intended: {} and review `git diff`",
                path.display(),
                difference(&expected, actual),
                self.update_command()
            );
        }
    }

    /// `UPDATE_GOLDEN=1 cargo test -p <package> <this test>`.
    fn update_command(&self) -> String {
        // libtest names each test's thread after the test.
        let test = std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .map(|n| format!(" -- {n} --exact"))
            .unwrap_or_default();
        format!("{UPDATE_VAR}=1 cargo test -p {}{test}", self.package)
    }
}

/// Whether this run rewrites golden files (`UPDATE_GOLDEN=1`).
pub fn updating() -> bool {
    std::env::var(UPDATE_VAR).as_deref() == Ok("1")
}

/// A line diff for text; for bytes that are not UTF-8, the first differing offset.
fn difference(expected: &[u8], actual: &[u8]) -> String {
    match (std::str::from_utf8(expected), std::str::from_utf8(actual)) {
        (Ok(e), Ok(a)) => super::diff::render(e, a),
        _ => {
            let at = expected
                .iter()
                .zip(actual)
                .take_while(|(x, y)| x == y)
                .count();
            format!(
                "binary contents differ at byte {at} (golden {} bytes, actual {} bytes)\n",
                expected.len(),
                actual.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mismatch_shows_the_diff_and_how_to_update() {
        if updating() {
            return;
        }
        let dir = crate::testkit::temp_dir("golden");
        std::fs::write(dir.join("a.txt"), "one\ntwo\n").unwrap();
        let leaked: &'static str = Box::leak(dir.to_string_lossy().into_owned().into_boxed_str());
        let g = Golden::new("lab-kit", leaked);
        g.check("a.txt", "one\ntwo\n");
        let err = std::panic::catch_unwind(|| g.check("a.txt", "one\n2\n")).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("-two\n+2\n"), "{msg}");
        assert!(
            msg.contains("UPDATE_GOLDEN=1 cargo test -p lab-kit -- testkit::golden::tests::a_mismatch_shows_the_diff_and_how_to_update --exact"),
            "{msg}"
        );
        let err = std::panic::catch_unwind(|| g.check("missing.txt", "x")).unwrap_err();
        assert!(err
            .downcast_ref::<String>()
            .unwrap()
            .contains("to create it: UPDATE_GOLDEN=1 cargo test -p lab-kit"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
