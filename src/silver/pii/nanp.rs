//! Which North-American area codes are in service, as libphonenumber says.

use std::sync::LazyLock;

/// Validity of North-American numbers (country code 1) by area code, as probed from
/// libphonenumber itself (the result is kept in [`NANP_CELLS`]). An area code is `Valid` when
/// every probe across its exchanges validates, `Invalid` when none of a dense sweep of exchanges does (not an area code in
/// service), and `Undecided` otherwise (the Caribbean codes that only allow some exchanges);
/// undecided numbers go to the full parser.
pub struct NanpTable {
    pub(super) cells: Vec<NanpCell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NanpCell {
    Valid,
    Invalid,
    Undecided,
}

#[cfg(test)]
fn lib_valid(npa: usize, rest: &str) -> bool {
    phonenumber::parse(None, format!("+1{npa}{rest}"))
        .map(|n| phonenumber::is_valid(&n))
        .unwrap_or(false)
}

impl NanpTable {
    #[cfg(test)]
    pub(super) fn probe() -> Self {
        let mut cells = vec![NanpCell::Invalid; 1000];
        for (npa, cell) in cells.iter_mut().enumerate().skip(200) {
            let coarse: Vec<bool> = (2..10)
                .flat_map(|x| {
                    ["550123", "219876", "873456", "004321"].map(move |r| format!("{x}{r}"))
                })
                .map(|rest| lib_valid(npa, &rest))
                .collect();
            // Exchanges starting 0 or 1 are invalid in the mainland plan; some islands differ.
            let low_exchange_valid = ["0550123", "1550123", "0219876", "1219876"]
                .iter()
                .any(|r| lib_valid(npa, r));
            *cell = if coarse.iter().all(|v| *v) && !low_exchange_valid {
                NanpCell::Valid
            } else if low_exchange_valid
                || coarse.iter().any(|v| *v)
                || (0..100).any(|xy| lib_valid(npa, &format!("{xy:02}51234")))
            {
                NanpCell::Undecided
            } else {
                NanpCell::Invalid
            };
        }
        NanpTable { cells }
    }

    /// `Some(valid)` when the table knows, `None` when the full parser must decide.
    pub(super) fn lookup(&self, npa: usize) -> Option<bool> {
        match self.cells.get(npa) {
            Some(NanpCell::Valid) => Some(true),
            Some(NanpCell::Invalid) | None => Some(false),
            Some(NanpCell::Undecided) => None,
        }
    }
}

/// [`NanpTable::probe`]'s answer for the phonenumber release in Cargo.lock, one character per
/// area code 000–999 (`V` valid, `.` invalid, `?` undecided). Probing costs about a second of
/// CPU per process; `the_nanp_table_is_what_libphonenumber_says` re-probes and compares, so a
/// phonenumber update that changes the metadata fails the tests until this is regenerated.
const NANP_CELLS: [&str; 10] = [
    "....................................................................................................",
    "....................................................................................................",
    ".VVVVVVVVVV.VVVVVVVVV..VVVVVVV.V..VVV..VV.?...?.VVVVVVV.VV..V.VV?..V?VV.V.?.V..V.V.V?....V..........",
    ".VVVVVVVVVV.VVVVVVVVVV.VVVVV.VVVV.V.VV.V?V.V.?VV..VVVVV.....VV.VVV.VVV..........V.V..VV.............",
    ".VVVVVVVVVV.VVVVVVVV...VVV..V.VVV.VV.VV.V?VV.V.VV.V.......V....VV...VVV.??VV..VVV...V...............",
    "VVVVVVVVVVV.VVVVVVVVVVV??VVVVVVVVVV....VVV..V...V..V.....V.V.VVVV.VV..VVVVVV.V.VVVV.VVVVV...........",
    "VVVVVVVVVVV.VVVVVVVVV.VV..V.VVVV.V..V..VVV...VVV.?VV....VVVVVVV.?..V.V??V.....V.VVVV?.V..V..........",
    ".VVVVVVVVV..VVVVVVVVV?..VVVVV.VVV.V..VV.V.VV...VV....VV..V?.V.VV.V.?.VVVVVVV..VVVVV.?VVV............",
    "VVVVVVVVV?V.VVVVVVVVVV...VV.V?VVVV.V..VVV..VVV.VV?V...VVVVVVV.VVVVVV??V.VV..?VVV........V...........",
    "VVVVVVVVVVV.VVVVVVVVV....V..VVVV..V.VVVVVVVV.V.VVV.VV.V.V..V..........VVVV.V..VVV..?VVV..V..........",
];

pub static NANP: LazyLock<NanpTable> = LazyLock::new(|| NanpTable {
    cells: NANP_CELLS
        .iter()
        .flat_map(|row| row.bytes())
        .map(|b| match b {
            b'V' => NanpCell::Valid,
            b'?' => NanpCell::Undecided,
            _ => NanpCell::Invalid,
        })
        .collect(),
});
