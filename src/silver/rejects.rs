//! Reading `silver/rejects`: the Bronze records Silver set aside, for the Quarantine pane and
//! `status`. Each keeps its date, Bronze file, line, export file and reason; the record itself
//! stays in Bronze.

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use chrono::NaiveDate;

use super::SilverError;
use crate::lake::Lake;

/// One record Silver set aside.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RejectRow {
    pub date: NaiveDate,
    pub bronze_file: String,
    /// 1-based.
    pub line: i64,
    pub source_file: String,
    pub reason: String,
}

/// Every record Silver set aside, by date, file and line (none before Silver is built).
pub async fn list(lake: &Lake) -> Result<Vec<RejectRow>, SilverError> {
    let sql = "SELECT date, bronze_file, line, source_file, reason FROM t \
               ORDER BY date, bronze_file, line";
    let Some(batches) =
        super::drift::query_table(lake, crate::lake::delta::SILVER_REJECTS, sql).await?
    else {
        return Ok(Vec::new());
    };
    let arrow_err = |source| SilverError::Arrow {
        date: NaiveDate::default(),
        source,
    };
    let mut out = Vec::new();
    for b in batches {
        let date = arrow::compute::cast(b.column(0), &DataType::Date32).map_err(arrow_err)?;
        let date = date.as_primitive::<Date32Type>();
        let text = |i: usize| crate::lake::delta::utf8_column(b.column(i)).map_err(arrow_err);
        let (file, source, reason) = (text(1)?, text(3)?, text(4)?);
        let line = arrow::compute::cast(b.column(2), &DataType::Int64).map_err(arrow_err)?;
        let line = line.as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.push(RejectRow {
                date: NaiveDate::default() + chrono::Duration::days(date.value(i).into()),
                bronze_file: file.value(i).to_string(),
                line: line.value(i),
                source_file: source.value(i).to_string(),
                reason: reason.value(i).to_string(),
            });
        }
    }
    Ok(out)
}
