//! The schema, as one ordered list of migrations that render the right DDL for SQLite and for
//! PostgreSQL. They run at start-up (and with `ducha migrate`).

mod m0001_registry;

use sea_orm_migration::prelude::*;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_registry::Migration)]
    }
}
