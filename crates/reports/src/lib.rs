//! ducha's files: spreadsheets in (import) and out (export), and the circular (通报) as docx,
//! HTML and PDF (typst) with its SVG charts and problem list. The heavy dependencies live in this
//! crate only, so that the rest of the workspace builds without them.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod checks;
pub mod circular;
pub mod exchange;
pub mod funds;
pub mod help_sheets;
pub mod households;
pub mod platform;
pub mod sheet;
mod xls;
