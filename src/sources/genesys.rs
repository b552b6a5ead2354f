//! Genesys Cloud as a source: an analytics conversation-details job for an interval, its
//! result pages fetched by cursor and written, byte for byte, into a private staging folder
//! for ingest (`pipeline::pull` runs the loop: fetch a page, ingest it, mark it done).
//!
//! Resumable: the job id and the next cursor are kept in `_connectors/genesys/<key>.json`
//! after every page, so an interrupted pull continues where it stopped. A page fetched again
//! after a crash between its ingest and the state write has the same bytes, so the ledger
//! reports it as already ingested and nothing is written twice. Credentials are used for the
//! token request only and never printed or logged.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::lake::{Lake, LakeError};
use crate::progress::JobProgress;

const STATE_DIR: &str = "_connectors/genesys";
const JOBS_PATH: &str = "/api/v2/analytics/conversations/details/jobs";

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(
        "Genesys refused the client credentials (HTTP {status}): {detail}. Check GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET and the region"
    )]
    Credentials { status: u16, detail: String },
    #[error(
        "no client credentials: set GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET, or --secrets-file"
    )]
    NoCredentials,
    #[error("secrets file {path}: {message}")]
    Secrets { path: String, message: String },
    #[error("Genesys analytics job {job} ended {state}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    JobFailed {
        job: String,
        state: String,
        message: Option<String>,
    },
    #[error("Genesys answered HTTP {status} for {what}: {body}")]
    Http {
        what: String,
        status: u16,
        body: String,
    },
    #[error("Genesys kept answering 429 (rate limited) for {what}; gave up after {tries} tries")]
    RateLimited { what: String, tries: u32 },
    #[error("cannot reach Genesys for {what}: {message}")]
    Network { what: String, message: String },
    #[error("unexpected answer for {what}: {message}")]
    Protocol { what: String, message: String },
    #[error("the interval is empty: --from {from} is not before --to {to}")]
    Interval {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("ingesting page {page}: {message}")]
    Ingest { page: u32, message: String },
    #[error("staging page {path}: {source}")]
    Staging {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "pull cancelled; the next pull of the same interval resumes after the last ingested page"
    )]
    Cancelled,
}

/// Client id and secret.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <secret>)", self.client_id)
    }
}

impl Credentials {
    /// From `GENESYS_CLIENT_ID` / `GENESYS_CLIENT_SECRET`, else a secrets file with
    /// `client_id = "…"` and `client_secret = "…"` (TOML).
    pub fn load(file: Option<&Path>) -> Result<Self, PullError> {
        if let (Ok(id), Ok(secret)) = (
            std::env::var("GENESYS_CLIENT_ID"),
            std::env::var("GENESYS_CLIENT_SECRET"),
        ) && !id.is_empty()
            && !secret.is_empty()
        {
            return Ok(Credentials {
                client_id: id,
                client_secret: secret,
            });
        }
        let Some(path) = file else {
            return Err(PullError::NoCredentials);
        };
        let err = |message: String| PullError::Secrets {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        #[derive(Deserialize)]
        struct File {
            client_id: String,
            client_secret: String,
        }
        let f: File = toml::from_str(&text).map_err(|e| {
            err(format!(
                "needs client_id and client_secret: {}",
                e.message()
            ))
        })?;
        Ok(Credentials {
            client_id: f.client_id,
            client_secret: f.client_secret,
        })
    }
}

/// A name made only of the characters that are safe in a file name (others become `_`).
fn path_safe(id: &str) -> String {
    let safe: String = id
        .chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() { "job".into() } else { safe }
}

/// Creates a folder only its owner may enter (0700), refusing one another user made.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::symlink_metadata(dir)?;
        if meta.file_type().is_symlink() || meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(std::io::Error::other(format!(
                "{} is not a folder of this user's own",
                dir.display()
            )));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Where pulled pages wait to be ingested: a private folder in the user's cache
/// (`~/.cache/cclake/pull`), never a shared temp folder another user could read or plant in.
pub fn private_staging() -> Result<PathBuf, PullError> {
    let dir = dirs::cache_dir()
        .ok_or_else(|| PullError::Staging {
            path: PathBuf::from("~/.cache"),
            source: std::io::Error::other("this user has no cache folder"),
        })?
        .join("cclake")
        .join("pull");
    create_private_dir(&dir).map_err(|source| PullError::Staging {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// What to pull and from where.
#[derive(Debug, Clone)]
pub struct PullOptions {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The Genesys Cloud region domain, e.g. `mypurecloud.com`, `mypurecloud.ie`.
    pub region: String,
    pub credentials: Credentials,
    /// Overrides of `https://api.<region>` and `https://login.<region>` (tests, proxies).
    pub api_base: Option<String>,
    pub login_base: Option<String>,
    /// Where result pages are written before they are ingested (then removed).
    pub staging: PathBuf,
    pub poll_every: Duration,
    pub max_tries: u32,
}

impl PullOptions {
    fn api(&self) -> String {
        self.api_base
            .clone()
            .unwrap_or_else(|| format!("https://api.{}", self.region))
    }
    fn login(&self) -> String {
        self.login_base
            .clone()
            .unwrap_or_else(|| format!("https://login.{}", self.region))
    }
    /// Names the interval (and region) in the state file.
    fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!(
            "{}|{}|{}",
            self.region,
            self.from.to_rfc3339(),
            self.to.to_rfc3339()
        ));
        hex::encode(&h.finalize()[..8])
    }
}

/// Where a pull stands, kept in the lake after every page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PullState {
    pub interval: String,
    pub job_id: Option<String>,
    /// The cursor of the next page to fetch (None: the first page).
    pub cursor: Option<String>,
    pub pages_done: u32,
    pub conversations: u64,
    pub finished: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

struct Client<'a> {
    http: reqwest::Client,
    opts: &'a PullOptions,
    token: Option<String>,
    waits: u32,
}

impl Client<'_> {
    async fn authenticate(&mut self) -> Result<(), PullError> {
        let url = format!("{}/oauth/token", self.opts.login());
        let resp = self
            .http
            .post(&url)
            .basic_auth(
                &self.opts.credentials.client_id,
                Some(&self.opts.credentials.client_secret),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|e| PullError::Network {
                what: "the token request".into(),
                message: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.unwrap_or_default();
        if status == 400 || status == 401 || status == 403 {
            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
            let detail = v["error_description"]
                .as_str()
                .or(v["error"].as_str())
                .unwrap_or("no detail")
                .to_string();
            return Err(PullError::Credentials { status, detail });
        }
        if status != 200 {
            return Err(PullError::Http {
                what: "the token request".into(),
                status,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| PullError::Protocol {
            what: "the token request".into(),
            message: e.to_string(),
        })?;
        self.token = v["access_token"].as_str().map(String::from);
        if self.token.is_none() {
            return Err(PullError::Protocol {
                what: "the token request".into(),
                message: "no access_token in the answer".into(),
            });
        }
        Ok(())
    }

    /// One API call with the bearer token; waits out 429s (Retry-After) and renews an expired
    /// token once. Returns status and body.
    async fn call(
        &mut self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, bytes::Bytes), PullError> {
        let url = format!("{}{}", self.opts.api(), path);
        let mut renewed = false;
        for attempt in 1..=self.opts.max_tries {
            if self.token.is_none() {
                self.authenticate().await?;
            }
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.token.as_deref().unwrap_or_default());
            if let Some(b) = &body {
                req = req
                    .header("content-type", "application/json")
                    .body(b.clone());
            }
            let resp = req.send().await.map_err(|e| PullError::Network {
                what: what.into(),
                message: e.to_string(),
            })?;
            let status = resp.status().as_u16();
            if status == 429 {
                let secs = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1u64 << attempt.min(5));
                self.waits += 1;
                tracing::info!(what, secs, "Genesys rate limit: waiting");
                tokio::time::sleep(Duration::from_secs(secs.min(120))).await;
                continue;
            }
            if status == 401 && !renewed {
                renewed = true;
                self.token = None;
                continue;
            }
            let bytes = resp.bytes().await.map_err(|e| PullError::Network {
                what: what.into(),
                message: e.to_string(),
            })?;
            return Ok((status, bytes));
        }
        Err(PullError::RateLimited {
            what: what.into(),
            tries: self.opts.max_tries,
        })
    }
}

fn http_err(what: &str, status: u16, body: &[u8]) -> PullError {
    PullError::Http {
        what: what.into(),
        status,
        body: String::from_utf8_lossy(body).chars().take(300).collect(),
    }
}

/// One result page, staged for ingest.
#[derive(Debug)]
pub struct Page {
    /// 1-based, over the whole pull (a resumed pull goes on counting).
    pub number: u32,
    /// The page as Genesys sent it, in the private staging folder.
    pub file: PathBuf,
    pub conversations: u64,
    cursor: Option<String>,
}

/// A pull under way: the job is fulfilled and its pages can be fetched in order.
pub struct Pull<'a> {
    lake: Lake,
    client: Client<'a>,
    job: String,
    state: PullState,
    state_path: String,
    dir: PathBuf,
    /// The pull picked up an interrupted one.
    pub resumed: bool,
}

impl<'a> Pull<'a> {
    /// Authenticates, reuses the job of an interrupted pull of the same interval (unless
    /// Genesys no longer has it) or creates one, and waits until it is fulfilled.
    pub async fn start(
        lake: &Lake,
        opts: &'a PullOptions,
        progress: &JobProgress,
    ) -> Result<Pull<'a>, PullError> {
        if opts.from >= opts.to {
            return Err(PullError::Interval {
                from: opts.from,
                to: opts.to,
            });
        }
        let state_path = format!("{STATE_DIR}/{}.json", opts.key());
        let mut state: PullState = lake.get_json(&state_path).await?.unwrap_or_default();
        let interval = format!("{}/{}", opts.from.to_rfc3339(), opts.to.to_rfc3339());
        let resumed = state.job_id.is_some() && !state.finished;
        if state.finished {
            // Pulled before: a new job fetches the interval again (late changes in Genesys);
            // unchanged pages are recognised by the ledger and not written twice.
            state = PullState::default();
        }
        state.interval = interval.clone();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| PullError::Network {
                what: "the HTTP client".into(),
                message: e.to_string(),
            })?;
        let mut client = Client {
            http,
            opts,
            token: None,
            waits: 0,
        };
        client.authenticate().await?;
        progress.set_stage("Genesys: waiting for the analytics job");
        let job = match &state.job_id {
            Some(id) if job_state(&mut client, id).await?.is_some() => id.clone(),
            _ => {
                state.cursor = None;
                create_job(&mut client, &interval).await?
            }
        };
        let mut pull = Pull {
            lake: lake.clone(),
            client,
            job,
            state,
            state_path,
            dir: PathBuf::new(),
            resumed,
        };
        pull.save_job().await?;
        pull.wait_until_fulfilled(progress).await?;
        // The job id comes from the server: only its safe characters name a folder, so an id
        // like `../x` cannot write outside the staging area.
        pull.dir = opts.staging.join(path_safe(&pull.job));
        create_private_dir(&pull.dir).map_err(|source| PullError::Staging {
            path: pull.dir.clone(),
            source,
        })?;
        Ok(pull)
    }

    pub fn job_id(&self) -> &str {
        &self.job
    }

    /// How many times Genesys asked to slow down (429) so far.
    pub fn rate_limited_waits(&self) -> u32 {
        self.client.waits
    }

    async fn save_job(&mut self) -> Result<(), PullError> {
        self.state.job_id = Some(self.job.clone());
        self.state.updated_at = Some(Utc::now());
        self.lake.put_json(&self.state_path, &self.state).await?;
        Ok(())
    }

    async fn wait_until_fulfilled(&mut self, progress: &JobProgress) -> Result<(), PullError> {
        loop {
            progress.check().map_err(|_| PullError::Cancelled)?;
            match job_state(&mut self.client, &self.job).await? {
                Some(s) if s.0 == "FULFILLED" => return Ok(()),
                Some(s) if s.0 == "QUEUED" || s.0 == "PENDING" || s.0 == "RUNNING" => {
                    tokio::time::sleep(self.client.opts.poll_every).await;
                }
                // Expired before any page was taken: a new job for the same interval.
                Some(s) if s.0 == "EXPIRED" && self.state.pages_done == 0 => {
                    self.job = create_job(&mut self.client, &self.state.interval).await?;
                    self.save_job().await?;
                }
                Some((s, message)) => {
                    return Err(PullError::JobFailed {
                        job: self.job.clone(),
                        state: s,
                        message,
                    });
                }
                None => {
                    return Err(PullError::JobFailed {
                        job: self.job.clone(),
                        state: "NOT FOUND".into(),
                        message: Some(
                            "the job expired; run the pull again to start a new one".into(),
                        ),
                    });
                }
            }
        }
    }

    /// Fetches the next result page into the staging folder; `None` once every page is done.
    pub async fn next_page(&mut self) -> Result<Option<Page>, PullError> {
        if self.state.finished {
            let _ = std::fs::remove_dir(&self.dir);
            return Ok(None);
        }
        let number = self.state.pages_done + 1;
        let job = &self.job;
        let path = match &self.state.cursor {
            None => format!("{JOBS_PATH}/{job}/results"),
            Some(c) => format!(
                "{JOBS_PATH}/{job}/results?cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            ),
        };
        let what = format!("result page {number} of job {job}");
        let (status, body) = self
            .client
            .call(&what, reqwest::Method::GET, &path, None)
            .await?;
        if status != 200 {
            return Err(http_err(&what, status, &body));
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| PullError::Protocol {
            what: what.clone(),
            message: e.to_string(),
        })?;
        // The page as Genesys sent it, byte for byte, is what Bronze keeps.
        let file = self.dir.join(format!(
            "conversations-{}-page{number:05}.json",
            path_safe(job)
        ));
        std::fs::write(&file, &body).map_err(|source| PullError::Staging {
            path: file.clone(),
            source,
        })?;
        Ok(Some(Page {
            number,
            file,
            conversations: v["conversations"].as_array().map_or(0, |a| a.len()) as u64,
            cursor: v["cursor"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(String::from),
        }))
    }

    /// Records a page as ingested (the next pull resumes after it) and removes its staging
    /// file.
    pub async fn page_done(&mut self, page: Page) -> Result<(), PullError> {
        let _ = std::fs::remove_file(&page.file);
        self.state.pages_done = page.number;
        self.state.conversations += page.conversations;
        self.state.finished = page.cursor.is_none();
        self.state.cursor = page.cursor;
        self.state.updated_at = Some(Utc::now());
        self.lake.put_json(&self.state_path, &self.state).await?;
        Ok(())
    }
}

async fn create_job(client: &mut Client<'_>, interval: &str) -> Result<String, PullError> {
    let what = "creating the analytics job";
    let body = serde_json::json!({ "interval": interval }).to_string();
    let (status, bytes) = client
        .call(what, reqwest::Method::POST, JOBS_PATH, Some(body))
        .await?;
    if status != 200 && status != 202 {
        return Err(http_err(what, status, &bytes));
    }
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| PullError::Protocol {
        what: what.into(),
        message: e.to_string(),
    })?;
    v["jobId"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| PullError::Protocol {
            what: what.into(),
            message: "no jobId in the answer".into(),
        })
}

/// The job's state and error message; `None` when Genesys does not know the job any more.
async fn job_state(
    client: &mut Client<'_>,
    job: &str,
) -> Result<Option<(String, Option<String>)>, PullError> {
    let what = format!("the state of job {job}");
    let (status, bytes) = client
        .call(
            &what,
            reqwest::Method::GET,
            &format!("{JOBS_PATH}/{job}"),
            None,
        )
        .await?;
    if status == 404 {
        return Ok(None);
    }
    if status != 200 {
        return Err(http_err(&what, status, &bytes));
    }
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| PullError::Protocol {
        what: what.clone(),
        message: e.to_string(),
    })?;
    let state = v["state"].as_str().unwrap_or("").to_ascii_uppercase();
    Ok(Some((state, v["errorMessage"].as_str().map(String::from))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_name_folders_safely_and_staging_is_private() {
        assert_eq!(path_safe("../../etc/passwd"), "______etc_passwd");
        assert_eq!(path_safe("5e0a1c2b-9f3d"), "5e0a1c2b-9f3d");
        assert_eq!(path_safe(""), "job");
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("pull");
        create_private_dir(&staging).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&staging).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
            // A symlink planted where the folder should be is refused.
            let elsewhere = dir.path().join("elsewhere");
            std::fs::create_dir(&elsewhere).unwrap();
            let planted = dir.path().join("planted");
            std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
            assert!(create_private_dir(&planted).is_err());
        }
    }
}
