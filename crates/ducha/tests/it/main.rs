//! ducha's integration tests: one binary. Each test gets its own database: a fresh SQLite file
//! in a temporary directory, or a fresh PostgreSQL database (created for the test, dropped
//! after). The same tests run on both, against the real server over real HTTP.

#[macro_use]
mod support;

mod accounts;
mod amounts;
mod api;
mod at_rest;
mod audit;
mod browser;
mod campaigns;
pub mod changes;
mod checks;
mod cli;
mod demo;
mod door;
mod exchange;
mod funds;
mod headers;
pub mod help;
mod office_sheets;
mod ops;
mod platform;
mod privacy;
mod regions;
mod scope_walk;
mod secrecy;
mod text;
mod uploads;
