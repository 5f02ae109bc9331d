//! A sheet sent with the files it names (a disbursement ledger and its vouchers): either a zip
//! the office made ("发送到 → 压缩文件夹"), or the files chosen together on the import page,
//! which the page packs into the same kind of zip so that the check and the later import read
//! one stored file.

use std::io::{Cursor, Read, Write};

use ducha_storage::evidence::Upload;

use crate::sheet::ReadError;

/// Nothing unpacked may exceed this in all (a zip that inflates without end is refused).
const UNPACKED_LIMIT: u64 = 96 * 1024 * 1024;

/// Files a bundle may hold: a year's ledger of a district has a few thousand vouchers.
pub const MAX_FILES: usize = 5_000;

/// Whether the bytes are a bundle: a zip that is not itself a workbook (an xlsx, or an
/// OpenDocument file, which the sheet reader names).
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        && !crate::sheet::is_open_document(bytes)
        && zip::ZipArchive::new(Cursor::new(bytes)).is_ok_and(|z| z.index_for_name("[Content_Types].xml").is_none())
}

/// A spreadsheet (the ledger), not a voucher: any the sheet reader reads or names.
pub fn is_sheet(name: &str) -> bool {
    let lower = name.to_lowercase();
    [".xlsx", ".xls", ".csv", ".ods"].iter().any(|e| lower.ends_with(e))
}

/// A name as stored in the zip: UTF-8 where it is, else GBK (what Windows writes for 凭证.jpg).
fn entry_path(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK.decode(raw).0.into_owned(),
    }
}

/// The last part of a path in a zip: what a sheet's 凭证文件 column names.
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or_default()
}

/// The one sheet of a bundle, and the other files in it.
pub fn unpack(bytes: &[u8]) -> Result<(Upload, Vec<Upload>), ReadError> {
    let bad = |m: String| ReadError::Bundle(m);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(format!("压缩包无法打开：{e}")))?;
    if zip.len() > MAX_FILES {
        return Err(bad(format!("压缩包中有 {} 个文件，超过了 {MAX_FILES} 个的上限；请分成几个压缩包上传", zip.len())));
    }
    let mut all: Vec<Upload> = Vec::new();
    // Each file's name → its path in the zip, to find two of one name.
    let mut paths: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut total = 0u64;
    let too_large = || bad(format!("压缩包解开后超过 {} MB 的上限", UNPACKED_LIMIT / 1024 / 1024));
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(format!("压缩包中的第 {} 个文件无法读取：{e}", i + 1)))?;
        if entry.is_dir() {
            continue;
        }
        let path = entry_path(entry.name_raw());
        let name = file_name(&path).to_string();
        // What macOS and Windows leave behind is not the office's.
        if name.is_empty() || name.starts_with('.') || name == "Thumbs.db" || path.starts_with("__MACOSX") {
            continue;
        }
        // Vouchers are named by file name alone: two of one name in different folders cannot be
        // told apart, so neither is guessed.
        if let Some(other) = paths.get(&name) {
            return Err(bad(format!("压缩包中有两个文件都叫“{name}”（{other} 和 {path}），请改名后再上传")));
        }
        // What the zip declares is checked first (cheap); what comes out is counted anyway.
        if entry.size() > UNPACKED_LIMIT - total {
            return Err(too_large());
        }
        let mut data = Vec::new();
        (&mut entry)
            .take(UNPACKED_LIMIT - total + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("压缩包中的“{name}”无法读取：{e}")))?;
        total += data.len() as u64;
        if total > UNPACKED_LIMIT {
            return Err(too_large());
        }
        paths.insert(name.clone(), path);
        all.push(Upload { filename: name, bytes: data });
    }
    let (mut sheets, files): (Vec<Upload>, Vec<Upload>) = all.into_iter().partition(|f| is_sheet(&f.filename));
    match sheets.len() {
        1 => Ok((sheets.remove(0), files)),
        0 => Err(bad("压缩包中没有台账（.xlsx、.xls 或 .csv）".into())),
        _ => Err(bad(format!(
            "压缩包中有 {} 个表格文件（{}），请只放一份台账",
            sheets.len(),
            sheets.iter().map(|s| s.filename.as_str()).collect::<Vec<_>>().join("、")
        ))),
    }
}

/// Pack files chosen together (one sheet and its vouchers) into a bundle; `None` when they are
/// not one sheet and other files.
pub fn pack(files: &[Upload]) -> Option<Result<Vec<u8>, ReadError>> {
    if files.len() < 2 || files.iter().filter(|f| is_sheet(&f.filename)).count() != 1 {
        return None;
    }
    let write = || -> zip::result::ZipResult<Vec<u8>> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for f in files {
            out.start_file(f.filename.as_str(), stored)?;
            out.write_all(&f.bytes)?;
        }
        Ok(out.finish()?.into_inner())
    };
    Some(write().map_err(|e| ReadError::Bundle(format!("无法打包上传的文件：{e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(name: &str, bytes: &[u8]) -> Upload {
        Upload { filename: name.into(), bytes: bytes.to_vec() }
    }

    #[test]
    fn files_chosen_together_pack_and_unpack_to_the_same() {
        let files = [upload("拨付台账.xlsx", b"PK\x03\x04sheet"), upload("回单0630.pdf", b"%PDF-1.4")];
        let bytes = pack(&files).expect("one sheet and a voucher").expect("packed");
        assert!(is_bundle(&bytes));
        let (sheet, vouchers) = unpack(&bytes).expect("unpacked");
        assert_eq!(sheet.filename, "拨付台账.xlsx");
        assert_eq!(vouchers.len(), 1);
        assert_eq!((vouchers[0].filename.as_str(), vouchers[0].bytes.as_slice()), ("回单0630.pdf", &b"%PDF-1.4"[..]));
        // A sheet alone, or two sheets, is no bundle to pack.
        assert!(pack(&files[..1]).is_none());
        assert!(pack(&[upload("a.xlsx", b""), upload("b.csv", b"")]).is_none());
    }

    #[test]
    fn names_read_as_windows_writes_them_and_leftovers_are_skipped() {
        // Windows' own zip stores 凭证/回单.jpg in GBK, without the UTF-8 flag.
        let (gbk, _, _) = encoding_rs::GBK.encode("凭证/回单.jpg");
        assert_eq!(file_name(&entry_path(&gbk)), "回单.jpg");
        assert_eq!(file_name("台账\\拨付台账.xlsx"), "拨付台账.xlsx");
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, data) in [
            ("凭证/回单.jpg", &b"jpg"[..]),
            ("台账/拨付台账.csv", "项目名称\n".as_bytes()),
            ("__MACOSX/._回单.jpg", b"junk"),
        ] {
            out.start_file(name, opts).expect("start");
            out.write_all(data).expect("write");
        }
        let bytes = out.finish().expect("finish").into_inner();
        let (sheet, files) = unpack(&bytes).expect("unpacked");
        assert_eq!(sheet.filename, "拨付台账.csv");
        assert_eq!(files.iter().map(|f| f.filename.as_str()).collect::<Vec<_>>(), ["回单.jpg"]);
    }

    #[test]
    fn a_zip_without_a_sheet_or_with_two_is_refused_with_its_reason() {
        let two = pack(&[upload("a.xlsx", b"1"), upload("v.jpg", b"2")]).expect("pack").expect("ok");
        assert!(unpack(&two).is_ok());
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        out.start_file("v.jpg", opts).expect("start");
        out.write_all(b"2").expect("write");
        let none = out.finish().expect("finish").into_inner();
        assert!(unpack(&none).unwrap_err().to_string().contains("没有台账"));
        assert!(unpack(b"not a zip").unwrap_err().to_string().contains("无法打开"));
        // Two vouchers of one name in different folders: neither is guessed.
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for name in ["台账.csv", "1月/回单.jpg", "2月/回单.jpg"] {
            out.start_file(name, opts).expect("start");
            out.write_all(b"x").expect("write");
        }
        let twice = out.finish().expect("finish").into_inner();
        let why = unpack(&twice).unwrap_err().to_string();
        assert!(why.contains("1月/回单.jpg") && why.contains("2月/回单.jpg"), "{why}");
    }

    #[test]
    fn a_zip_of_too_many_files_or_too_many_bytes_is_refused_quickly() {
        let opts = zip::write::SimpleFileOptions::default();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        out.start_file("台账.csv", opts).expect("start");
        for i in 0..MAX_FILES {
            out.start_file(format!("v{i}.jpg"), opts).expect("start");
        }
        let many = out.finish().expect("finish").into_inner();
        let started = std::time::Instant::now();
        let why = unpack(&many).unwrap_err().to_string();
        assert!(why.contains("5001 个文件") && why.contains("5000 个的上限"), "{why}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        // 100 MB of zeros deflate to about 100 KB: refused for what it would become.
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        out.start_file("台账.csv", deflated).expect("start");
        out.write_all(&vec![0u8; 100 << 20]).expect("write");
        let bomb = out.finish().expect("finish").into_inner();
        assert!(bomb.len() < 1 << 20);
        assert!(unpack(&bomb).unwrap_err().to_string().contains("超过 96 MB 的上限"));
    }
}
