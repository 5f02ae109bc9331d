//! For the fuzz harness (`fuzz/`, not part of the server): one request body read as every JSON
//! body the API takes, through the same decoding as [`crate::api::ApiJson`] and then the same
//! checks its handler makes before it touches the database. Whatever the bytes, this must return
//! (an error is fine); a panic or an unbounded allocation is a bug.

use chrono::NaiveDate;
use ducha_domain::registry::{FinanceForm, HouseholdForm, MemberForm};
use ducha_domain::{Labelled, RegionTree};
use serde::de::DeserializeOwned;

use crate::api::decode;

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    decode::<T>(bytes).ok()
}

/// Decode `bytes` as each API body and run its handler's checks. `tree` is the division list the
/// handlers check region codes against; `today` stands for the server's date.
pub fn api_bodies(bytes: &[u8], tree: &RegionTree, today: NaiveDate) {
    use chrono::Datelike;
    let year = today.year();

    // Registry: households, members, yearly finances, change requests.
    if let Some(f) = body::<HouseholdForm>(bytes) {
        let _ = f.validate(tree, today);
    }
    if let Some(u) = body::<crate::registry::api::HouseholdUpdate>(bytes) {
        let _ = u.version.trim().parse::<i32>();
        let _ = u.form.validate(tree, today);
    }
    if let Some(f) = body::<MemberForm>(bytes) {
        let _ = f.validate(today);
    }
    if let Some(f) = body::<FinanceForm>(bytes) {
        let _ = f.validate(year);
    }
    if let Some(c) = body::<crate::registry::changes::ChangeInput>(bytes)
        && let Ok(kind) = crate::registry::changes::parse_kind(&c.kind)
    {
        let _ = c.payload(kind, &[]);
    }
    if let Some(i) = body::<crate::registry::changes::IdentificationInput>(bytes) {
        let _ = crate::registry::changes::identification_payload(tree, &i.household, &i.head, &i.reason);
    }
    let _ = body::<crate::registry::changes::Decision>(bytes);

    // Help records.
    if let Some(f) = body::<ducha_domain::help::PlanForm>(bytes) {
        let _ = f.validate(year);
    }
    if let Some(f) = body::<ducha_domain::help::MeasureForm>(bytes) {
        let _ = f.validate(today);
    }
    if let Some(f) = body::<ducha_domain::help::LogForm>(bytes) {
        let _ = f.validate(today);
    }
    if let Some(f) = body::<ducha_domain::help::CadreForm>(bytes) {
        let _ = f.validate(tree);
    }

    // Checks.
    if let Some(v) = body::<crate::checks::ParamValue>(bytes) {
        let _ = v.value.trim().parse::<i64>();
    }
    let _ = body::<crate::checks::RunForm>(bytes);
    let _ = body::<crate::checks::ExemptForm>(bytes);

    // Town platforms.
    if let Some(f) = body::<ducha_domain::platform::PostingForm>(bytes) {
        let _ = f.validate();
    }
    if let Some(f) = body::<crate::platform::CheckInForm>(bytes) {
        let _ = f.parse();
    }
    if let Some(f) = body::<ducha_domain::platform::InstitutionForm>(bytes) {
        let _ = f.validate();
    }

    // Campaigns: a visit sent by a script (its own JSON, not through ApiJson).
    let _ = crate::campaigns::visit::decode_visit(bytes);

    // Projects and funds.
    if let Some(p) = body::<crate::funds::forms::ProjectIn>(bytes) {
        let _ = p.project.validate();
    }
    if let Some(a) = body::<crate::funds::forms::AdvanceForm>(bytes) {
        let _ = ducha_domain::funds::Stage::parse(&a.to);
    }
    if let Some(n) = body::<crate::funds::forms::NoticeForm>(bytes) {
        let _ = n.parse();
    }
    if let Some(a) = body::<crate::funds::forms::AllocationForm>(bytes) {
        let _ = a.allocation(year);
    }
    if let Some(t) = body::<crate::funds::forms::TransferForm>(bytes) {
        let _ = t.parse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness reaches the handlers' checks: a well-formed household body gets as far as
    /// `validate` (here refused for its unknown village), and nothing panics on junk.
    #[test]
    fn bodies_are_decoded_and_checked() {
        let tree = RegionTree::new(
            ducha_domain::region::parse_region_file(ducha_domain::region::JIANGMEN_CSV.as_bytes()).expect("shipped"),
        );
        let today = NaiveDate::from_ymd_opt(2017, 11, 6).expect("date");
        let f: HouseholdForm = decode(br#"{"village_code": "999", "safe_water": true}"#).expect("decoded");
        assert!(f.validate(&tree, today).is_err());
        for junk in [&b"{}"[..], b"[]", b"{\"kind\": 1}", b"\xff", br#"{"member": {"id_number": 5}}"#] {
            api_bodies(junk, &tree, today);
        }
    }
}
