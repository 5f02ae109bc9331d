//! ducha's storage: one schema and one set of queries for SQLite (the embedded default) and
//! PostgreSQL (a province or the nation). Every query that reads households takes a region
//! scope; the demo city loads here.
//!
//! Outside this crate the register is reached only through [`Db::scoped`], which carries the
//! actor (see `scoped.rs`):
//!
//! ```no_run
//! # async fn page(db: ducha_storage::Db, actor: ducha_domain::access::Actor) -> Result<(), ducha_storage::StorageError> {
//! let household = db.scoped(&actor).registry().household(1).await?;
//! # Ok(()) }
//! ```
//!
//! and a read that takes no actor is private to storage: this does not compile.
//!
//! ```compile_fail,E0603
//! # async fn page(db: ducha_storage::Db) {
//! let household = ducha_storage::registry::household_by_id(&db, &ducha_domain::access::Scope::All, 1).await;
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod campaigns;
pub mod checks;
pub mod crypto;
pub mod datakeys;
mod db;
pub mod demo;
pub mod evidence;
pub mod funds;
pub mod help;
pub mod import_jobs;
pub mod migration;
pub mod personal;
pub mod platform;
pub mod rectification;
pub mod regions;
pub mod registry;
mod scope;
mod scoped;
pub mod settings;
mod sheet_plan;
mod stored;

pub use db::{Backend, Db, DbOptions, SchemaState, StorageError, redact as db_redact, schema_version};
pub use scoped::{Scoped, beijing_today};
