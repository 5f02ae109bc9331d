//! Evidence files (佐证材料): which files are accepted, judged by their content, not their name.

/// The largest file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The content type of an accepted file (photo, PDF, Word or Excel document), or why it is refused.
pub fn accept(filename: &str, bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.is_empty() {
        return Err(format!("文件“{filename}”是空的"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "文件“{filename}”有 {:.1} MB，超过上限 {} MB",
            bytes.len() as f64 / 1_048_576.0,
            MAX_BYTES / 1_048_576
        ));
    }
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let kind = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        "image/png"
    } else if bytes.starts_with(b"%PDF") {
        "application/pdf"
    } else if bytes.starts_with(b"PK\x03\x04") && ext == "docx" {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    } else if bytes.starts_with(b"PK\x03\x04") && ext == "xlsx" {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        return Err(format!(
            "文件“{filename}”的类型不受支持：只接受 JPG、PNG 照片和 PDF、Word（docx）、Excel（xlsx）文件"
        ));
    };
    Ok(kind)
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_decides_not_the_name() {
        assert_eq!(super::accept("a.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]), Ok("image/jpeg"));
        assert_eq!(super::accept("scan.PDF", b"%PDF-1.7"), Ok("application/pdf"));
        assert!(super::accept("photo.jpg", b"MZ\x90\x00").unwrap_err().contains("类型不受支持"));
        assert!(super::accept("x.png", &[]).unwrap_err().contains("是空的"));
        assert!(super::accept("big.png", &vec![0x89; super::MAX_BYTES + 1]).unwrap_err().contains("超过上限"));
    }
}
