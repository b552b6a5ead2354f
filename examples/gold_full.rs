//! Times a full rebuild of Gold alone on an existing lake (Silver as it is), for the README's
//! Performance figures: `cargo run --release --example gold_full -- LAKE [RUNS]`.

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    // RUST_LOG=cclake=debug: the time of each phase (reading Silver, counting, committing).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let lake = args.next().context("usage: gold_full LAKE [RUNS]")?;
    let runs: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let rt = tokio::runtime::Runtime::new()?;
    let lake = cclake::lake::Lake::open(&lake)?;
    let progress = cclake::progress::JobProgress::default();
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let s = rt.block_on(cclake::gold::build(
            &lake,
            cclake::gold::GoldMode::Full,
            &progress,
        ))?;
        println!(
            "Gold full rebuild: {} dates, {} daily + {} hourly rows in {:.3} s",
            s.dates.len(),
            s.daily_rows,
            s.hourly_rows,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
