//! ducha's domain: the types and rules of the poverty-alleviation registry and its inspection,
//! with no I/O. Everything that reads a database, a file or the clock lives in other crates and
//! hands values in.
#![forbid(unsafe_code)]

pub mod access;
pub mod campaigns;
pub mod checks;
pub mod demo;
pub mod evidence;
pub mod funds;
pub mod help;
pub mod id_number;
pub mod labelled;
pub mod money;
pub mod platform;
pub mod privacy;
pub mod rectification;
pub mod region;
pub mod registry;
pub mod validation;

pub use id_number::IdNumber;
pub use labelled::Labelled;
pub use money::Money;
pub use region::{Region, RegionCode, RegionKind, RegionLevel, RegionTree, Resolution};
