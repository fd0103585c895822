//! Files written whole or not at all: written under a temporary name in the same folder, then
//! renamed into place, so a crash or a kill never leaves a torn file where a good one was.

use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

/// A temporary file in `dir`, to be renamed over its target with `persist`. It gets the
/// permissions a plain `File::create` would (0666 less the umask), not tempfile's private
/// 0600, so the files SceneLab writes can be shared like any other.
pub fn temp_in(dir: &Path) -> std::io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".scenelab-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && !dir.is_dir() {
            // Not the temporary file's made-up name: the folder the user gave.
            std::io::Error::new(
                e.kind(),
                format!("the folder {} does not exist", dir.display()),
            )
        } else {
            e
        }
    })
}

/// The folder a file at `path` goes in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Write `bytes` to `path` through [`temp_in`] and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_in(parent_dir(path))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Write `bytes` to `path` through [`temp_in`] and a rename, without waiting for the disk:
/// for many small files (a feature file per shot) that a rerun rewrites, where a sync per file
/// would cost minutes. A killed run still never leaves a torn file.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_in(parent_dir(path))?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_and_leave_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        #[cfg(unix)]
        {
            // The mode a plain File::create gets here, whatever the umask.
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::File::create(&plain).unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&path), mode(&plain));
        }
    }

    #[test]
    fn a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = write_atomic(&missing.join("a.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("nope does not exist"), "{err}");
    }
}
