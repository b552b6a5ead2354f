//! The plan a Silver job submits: one partition per date, each executed on whichever executor
//! the scheduler gives it, answering one row (the date's [`DateResult`] as JSON). The codec
//! that carries it to the executors wraps Ballista's own, so the scheduler's shuffle nodes
//! travel as before.

use std::fmt;
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use ballista_core::serde::BallistaPhysicalExtensionCodec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use super::task::{SilverTasks, run_date};

/// Marks cclake's nodes in the codec's bytes.
const SILVER_NODE: &[u8] = b"cclake.silver.v1\0";

/// One date per partition; each answers `{"result": DateResult JSON}`.
#[derive(Debug)]
pub struct SilverDatesExec {
    pub tasks: SilverTasks,
    props: Arc<PlanProperties>,
}

pub fn result_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "result",
        DataType::Utf8,
        false,
    )]))
}

impl SilverDatesExec {
    pub fn new(tasks: SilverTasks) -> SilverDatesExec {
        let props = PlanProperties::new(
            EquivalenceProperties::new(result_schema()),
            Partitioning::UnknownPartitioning(tasks.dates.len().max(1)),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        SilverDatesExec {
            tasks,
            props: Arc::new(props),
        }
    }
}

impl DisplayAs for SilverDatesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SilverDatesExec: {} dates", self.tasks.dates.len())
    }
}

impl ExecutionPlan for SilverDatesExec {
    fn name(&self) -> &str {
        "SilverDatesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(
            &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
        ) -> Result<datafusion::common::tree_node::TreeNodeRecursion>,
    ) -> Result<datafusion::common::tree_node::TreeNodeRecursion> {
        // Holds no expressions.
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let lake = self.tasks.lake.clone();
        let fingerprint = self.tasks.fingerprint.clone();
        let task = self.tasks.dates.get(partition).cloned();
        let work = async move {
            let Some(task) = task else {
                // A job with no dates still has one (empty) partition.
                return Ok(RecordBatch::new_empty(result_schema()));
            };
            let result = run_date(&lake, &fingerprint, &task).await.map_err(|e| {
                DataFusionError::External(format!("Silver {}: {e}", task.date).into())
            })?;
            tracing::info!(date = %task.date, rows = result.rows, "built a Silver date on this executor");
            let json = serde_json::to_string(&result)
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            RecordBatch::try_new(
                result_schema(),
                vec![Arc::new(StringArray::from(vec![json]))],
            )
            .map_err(DataFusionError::from)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            result_schema(),
            futures::stream::once(work),
        )))
    }
}

/// cclake's physical codec: its own nodes and the reporting zone's functions, and Ballista's
/// codec for everything else.
#[derive(Debug, Default)]
pub struct CclakeCodec {
    ballista: BallistaPhysicalExtensionCodec,
    /// The reporting zone a Gold plan's `cclake_local_*` functions use (client side; the
    /// executors read it from the plan).
    zone: Option<String>,
}

impl CclakeCodec {
    pub fn with_zone(zone: &str) -> CclakeCodec {
        CclakeCodec {
            zone: Some(zone.to_string()),
            ..Default::default()
        }
    }
}

/// The reporting zone's functions travel as their zone's name.
const ZONE_UDF: &str = "cclake_local_";

impl PhysicalExtensionCodec for CclakeCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match buf.strip_prefix(SILVER_NODE) {
            Some(json) => {
                let tasks: SilverTasks = serde_json::from_slice(json)
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                Ok(Arc::new(SilverDatesExec::new(tasks)))
            }
            None => self.ballista.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        match node.downcast_ref::<SilverDatesExec>() {
            Some(exec) => {
                buf.extend_from_slice(SILVER_NODE);
                serde_json::to_writer(buf, &exec.tasks)
                    .map_err(|e| DataFusionError::External(Box::new(e)))
            }
            None => self.ballista.try_encode(node, buf, proto_converter),
        }
    }

    fn try_encode_udf(
        &self,
        node: &datafusion::logical_expr::ScalarUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        match (&self.zone, node.name().starts_with(ZONE_UDF)) {
            (Some(zone), true) => {
                buf.extend_from_slice(zone.as_bytes());
                Ok(())
            }
            _ => self.ballista.try_encode_udf(node, buf),
        }
    }

    fn try_decode_udf(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::ScalarUDF>> {
        if !name.starts_with(ZONE_UDF) {
            return self.ballista.try_decode_udf(name, buf);
        }
        let zone_name =
            std::str::from_utf8(buf).map_err(|e| DataFusionError::External(Box::new(e)))?;
        let zone = crate::config::zone::ReportingZone::parse(zone_name)
            .map_err(DataFusionError::Execution)?;
        (zone.udfs().into_iter())
            .find(|u| u.name() == name)
            .map(Arc::new)
            .ok_or_else(|| DataFusionError::Execution(format!("no function {name}")))
    }
}
