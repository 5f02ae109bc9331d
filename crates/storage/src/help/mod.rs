//! Help records: cadres, plans and their items, measures delivered, logs.
pub mod cadre;
pub mod log;
pub mod measure;
pub mod plan;
pub mod plan_item;
pub mod store;
