//! ducha's files: spreadsheets in (import) and out (export), and later the circular as docx and
//! PDF with its charts. The heavy dependencies live in this crate only, so that the rest of the
//! workspace builds without them.
#![forbid(unsafe_code)]

pub mod checks;
pub mod exchange;
pub mod funds;
pub mod help_sheets;
pub mod households;
pub mod platform;
pub mod sheet;
