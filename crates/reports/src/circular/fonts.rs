//! The machine's fonts, found once per process: for typst (the PDF) a font book whose fonts are
//! read from disk only when a document uses them, and for resvg (charts rasterised into the
//! docx) a fontdb over the same folders. Debian's fonts-noto-cjk gives Noto Serif/Sans CJK SC;
//! nothing is downloaded and no font is built into the binary.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb;
use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

/// Where fonts are looked for: the folders in `DUCHA_FONT_DIRS` (separated by `:`), then the
/// system's.
pub(crate) fn font_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("DUCHA_FONT_DIRS").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
    dirs.extend(["/usr/share/fonts", "/usr/local/share/fonts"].map(PathBuf::from));
    dirs
}

fn is_font_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc" | "otc"))
}

/// Every font file under `dir`, sorted so that the book's order does not depend on the disk.
fn font_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            font_files(&p, out);
        } else if is_font_file(&p) {
            out.push(p);
        }
    }
}

/// A font file, read when one of its faces is first used.
struct FontFile {
    path: PathBuf,
    data: OnceLock<Option<Bytes>>,
}

/// One face: which file, which index in the collection, and the loaded font.
struct Slot {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

/// The fonts typst may use.
pub(crate) struct TypstFonts {
    pub(crate) book: LazyHash<FontBook>,
    files: Vec<FontFile>,
    slots: Vec<Slot>,
    /// The folders looked in, for the error when no CJK font was found.
    pub(crate) searched: String,
}

impl TypstFonts {
    fn scan() -> TypstFonts {
        let dirs = font_dirs();
        let mut paths = Vec::new();
        for d in &dirs {
            font_files(d, &mut paths);
        }
        let mut book = FontBook::new();
        let mut files = Vec::new();
        let mut slots = Vec::new();
        for path in paths {
            // Read once to learn the faces; the data is dropped and read again on use.
            let Ok(data) = std::fs::read(&path) else { continue };
            let file = files.len();
            for (index, info) in FontInfo::iter(&data).enumerate() {
                book.push(info);
                slots.push(Slot { file, index: index as u32, font: OnceLock::new() });
            }
            files.push(FontFile { path, data: OnceLock::new() });
        }
        let searched = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join("、");
        TypstFonts { book: LazyHash::new(book), files, slots, searched }
    }

    /// The face at `index` of the book, loaded on first use.
    pub(crate) fn font(&self, index: usize) -> Option<Font> {
        let slot = self.slots.get(index)?;
        slot.font
            .get_or_init(|| {
                let file = self.files.get(slot.file)?;
                let data = file.data.get_or_init(|| std::fs::read(&file.path).ok().map(Bytes::new)).clone()?;
                Font::new(data, slot.index)
            })
            .clone()
    }

    /// Whether a CJK family the template names is there.
    pub(crate) fn has_cjk(&self) -> bool {
        ["noto serif cjk sc", "noto sans cjk sc", "source han serif sc", "fangsong", "simsun", "simhei"]
            .iter()
            .any(|f| self.book.contains_family(f))
    }
}

pub(crate) fn typst_fonts() -> &'static TypstFonts {
    static FONTS: OnceLock<TypstFonts> = OnceLock::new();
    FONTS.get_or_init(TypstFonts::scan)
}

/// The font database for rasterising SVG charts.
pub(crate) fn svg_fontdb() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        for d in font_dirs() {
            db.load_fonts_dir(d);
        }
        db.set_sans_serif_family("Noto Sans CJK SC");
        db.set_serif_family("Noto Serif CJK SC");
        Arc::new(db)
    })
    .clone()
}
