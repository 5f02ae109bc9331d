//! What checking an imported sheet row by row comes to, shared by the imports that add or update
//! records known by a key (postings, institutions, allocations): nothing is written until every
//! row is checked.

/// What a roster import writes for one row: a new record, or a change to one (with what it was).
pub(crate) enum RosterStep<T> {
    New(T),
    Change(i64, T, T),
}

/// A roster sheet as checked row by row: the counts, each problem at its row, and what writing
/// will do; a record the sheet gives twice (by `K`) is a problem at its second row.
pub(crate) struct RosterPlan<K, T> {
    pub(crate) summary: crate::help::store::HelpImportSummary,
    pub(crate) problems: Vec<crate::registry::import::ImportProblem>,
    pub(crate) steps: Vec<RosterStep<T>>,
    seen: std::collections::HashMap<K, usize>,
}

impl<K: std::hash::Hash + Eq, T: Clone + PartialEq> RosterPlan<K, T> {
    pub(crate) fn new() -> Self {
        Self { summary: Default::default(), problems: vec![], steps: vec![], seen: Default::default() }
    }

    pub(crate) fn refuse(&mut self, row: usize, field: &'static str, message: String) {
        self.problems.push(crate::registry::import::ImportProblem { row, field, message });
    }

    /// Whether this row is the first to give the record (else a problem naming the first).
    pub(crate) fn first(&mut self, key: K, row: usize, field: &'static str, what: &str) -> bool {
        match self.seen.insert(key, row) {
            Some(first) => {
                self.refuse(row, field, format!("与第 {first} 行是同一{what}，请只保留一行"));
                false
            }
            None => true,
        }
    }

    /// The row against what is stored: new, unchanged, or a change.
    pub(crate) fn compare(&mut self, stored: Option<(i64, T)>, row: &T) {
        match stored {
            None => {
                self.summary.new += 1;
                self.steps.push(RosterStep::New(row.clone()));
            }
            Some((_, before)) if before == *row => self.summary.unchanged += 1,
            Some((id, before)) => {
                self.summary.changed += 1;
                self.steps.push(RosterStep::Change(id, before, row.clone()));
            }
        }
    }
}
