//! `cclake doctor [--repair]`: the problems, each with its repair; with --repair, the repairs
//! and then the rebuild they call for.

use anyhow::{Result, bail};

use super::{Show, job};
use crate::lake::Lake;
use crate::pipeline::doctor::{self, Problem, RepairOptions};
use crate::pipeline::{Job, JobProgress};
use crate::silver::ProcessMode;
use crate::silver::digest::HmacKey;

pub async fn doctor(lake: &Lake, repair: Option<RepairOptions>, json: bool) -> Result<()> {
    let progress = JobProgress::new();
    let problems = doctor::check(lake, &progress).await?;
    let Some(mut opts) = repair else {
        if json {
            println!("{}", serde_json::to_string_pretty(&problems)?);
        } else {
            print_problems(&problems);
        }
        if !problems.is_empty() {
            bail!(
                "{} problems found; `cclake doctor --repair` repairs them",
                problems.len()
            );
        }
        return Ok(());
    };
    if problems.is_empty() {
        println!("nothing to repair: the lake reads whole");
        return Ok(());
    }
    if problems
        .iter()
        .any(|p| matches!(p, Problem::GarbledKeyRecord { .. }))
    {
        opts.key = HmacKey::from_environment().ok();
    }
    let repaired = doctor::repair(lake, problems, &opts).await?;
    for d in &repaired.done {
        println!("repaired: {d}");
    }
    let rebuild = if repaired.rebuild_all {
        Some(ProcessMode::Full)
    } else {
        match (repaired.dates.first(), repaired.dates.last()) {
            (Some(from), Some(to)) => Some(ProcessMode::Range {
                from: *from,
                to: *to,
            }),
            _ => None,
        }
    };
    if let Some(mode) = rebuild {
        println!("rebuilding what the repairs touched");
        job(lake, Job::Process(mode), "rebuilding", Show::default()).await?;
    }
    if !repaired.left.is_empty() {
        print_problems(&repaired.left);
        bail!("{} problems are left", repaired.left.len());
    }
    Ok(())
}

fn print_problems(problems: &[Problem]) {
    if problems.is_empty() {
        println!(
            "no problems: every Delta commit, state file, ledger row and Bronze file reads whole"
        );
        return;
    }
    for p in problems {
        println!("problem: {}", p.describe());
        println!("  repair: {}", p.repair_hint());
    }
}
