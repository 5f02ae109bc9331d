//! The schema, as one ordered list of migrations that render the right DDL for SQLite and for
//! PostgreSQL. They run at start-up (and with `ducha migrate`).

mod m0001_registry;
pub(crate) mod m0002_accounts_audit;
mod m0003_changes;
mod m0004_evidence;
mod m0005_import_jobs;
mod m0006_checks;
mod m0007_platform;
mod m0008_funds;
mod m0009_offices;
mod m0010_campaigns;
mod m0011_circulars;
mod m0012_rectifications;
mod m0013_transfers;
mod m0014_security;
mod m0015_job_owner;
mod m0016_personal;
mod m0017_suites;

use sea_orm_migration::prelude::*;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_registry::Migration),
            Box::new(m0002_accounts_audit::Migration),
            Box::new(m0003_changes::Migration),
            Box::new(m0004_evidence::Migration),
            Box::new(m0005_import_jobs::Migration),
            Box::new(m0006_checks::Migration),
            Box::new(m0007_platform::Migration),
            Box::new(m0008_funds::Migration),
            Box::new(m0009_offices::Migration),
            Box::new(m0010_campaigns::Migration),
            Box::new(m0011_circulars::Migration),
            Box::new(m0012_rectifications::Migration),
            Box::new(m0013_transfers::Migration),
            Box::new(m0014_security::Migration),
            Box::new(m0015_job_owner::Migration),
            Box::new(m0016_personal::Migration),
            Box::new(m0017_suites::Migration),
        ]
    }
}
