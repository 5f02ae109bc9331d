//! Files the command line writes. Exports, reports and lists carry personal data: each is
//! written readable by its owner only (0600 on Unix), whatever the umask, and an existing file
//! of that name gets the same permissions.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

pub fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("无法写入 {}", path.display()))?;
    // `mode` applies to a new file only: one that was there keeps its permissions unless set.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .with_context(|| format!("无法设置 {} 的权限", path.display()))?;
    file.write_all(bytes.as_ref()).with_context(|| format!("无法写入 {}", path.display()))?;
    Ok(())
}
