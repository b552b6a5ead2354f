//! A Delta table's active files as a plain Parquet scan, for plans that leave this process.

use chrono::NaiveDate;
use deltalake::{DeltaTable, DeltaTableError};

use super::Lake;

/// A table's active Parquet files whose `date` partition lies in `from ..= to`, as a plain
/// Parquet scan: a plan a cluster can run (Delta's own scan node has no codec to travel
/// with). Rows read are the table's rows of those dates, `date` included.
#[derive(Debug)]
pub struct ActiveParquet {
    schema: deltalake::arrow::datatypes::SchemaRef,
    file_schema: deltalake::arrow::datatypes::SchemaRef,
    store_url: datafusion::execution::object_store::ObjectStoreUrl,
    files: Vec<datafusion::datasource::listing::PartitionedFile>,
}

impl ActiveParquet {
    pub fn new(
        lake: &Lake,
        rel: &str,
        table: &DeltaTable,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<ActiveParquet, DeltaTableError> {
        use deltalake::arrow::datatypes::{DataType, Schema};
        let state = table.snapshot()?;
        let schema = state.snapshot().arrow_schema();
        let fields: Vec<_> = (schema.fields().iter())
            .filter(|f| f.name() != "date")
            .cloned()
            .collect();
        let file_schema = std::sync::Arc::new(Schema::new(fields));
        let mut table_fields: Vec<_> = file_schema.fields().iter().cloned().collect();
        table_fields.push(std::sync::Arc::new(
            deltalake::arrow::datatypes::Field::new("date", DataType::Date32, true),
        ));
        let url = lake.url_of(rel);
        let store_url = datafusion::execution::object_store::ObjectStoreUrl::parse(format!(
            "{}://{}",
            url.scheme(),
            url.authority()
        ))
        .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        let base = url.path().trim_matches('/').to_string();
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let mut files = Vec::new();
        for f in state.log_data().iter() {
            let Some(Some(d)) = f.partition_values_map().get("date").cloned() else {
                continue;
            };
            let Ok(date) = d.parse::<NaiveDate>() else {
                continue;
            };
            if date < from || date > to {
                continue;
            }
            let path = format!("{base}/{}", f.path());
            let mut pf =
                datafusion::datasource::listing::PartitionedFile::new(path, f.size() as u64);
            pf.partition_values = vec![datafusion::scalar::ScalarValue::Date32(Some(
                (date - epoch).num_days() as i32,
            ))];
            files.push(pf);
        }
        Ok(ActiveParquet {
            schema: std::sync::Arc::new(Schema::new(table_fields)),
            file_schema,
            store_url,
            files,
        })
    }

    /// Where its files are: the store a session needs registered to read them.
    pub fn store_url(&self) -> &datafusion::execution::object_store::ObjectStoreUrl {
        &self.store_url
    }
}

#[async_trait::async_trait]
impl datafusion::catalog::TableProvider for ActiveParquet {
    fn schema(&self) -> deltalake::arrow::datatypes::SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> datafusion::logical_expr::TableType {
        datafusion::logical_expr::TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        _filters: &[datafusion::prelude::Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>
    {
        use datafusion::datasource::physical_plan::{
            FileGroup, FileScanConfigBuilder, ParquetSource,
        };
        use datafusion::datasource::source::DataSourceExec;
        use datafusion::datasource::table_schema::TableSchema;
        let date = self.schema.field_with_name("date")?.clone();
        let table_schema = TableSchema::builder(self.file_schema.clone())
            .with_table_partition_cols(vec![std::sync::Arc::new(date)])
            .build();
        let source = std::sync::Arc::new(ParquetSource::new(table_schema));
        let config = FileScanConfigBuilder::new(self.store_url.clone(), source)
            .with_file_group(FileGroup::new(self.files.clone()))
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}
