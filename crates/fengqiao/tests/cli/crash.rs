//! `kill -9` while incidents come in. The real binary serves a town seeded
//! by `fengqiao gen`; clients post the town's calls with an Idempotency-Key
//! each, as a call-taking system would, and post again whatever was not
//! answered once the server is back; the server is killed at random moments
//! and started again, again and again. Afterwards every acknowledged
//! incident is stored exactly once — found by its receipt number and by its
//! key, answered again with the same incident, nothing stored that was not
//! asked for — the database's own integrity check finds nothing and
//! `fengqiao audit verify` passes.

use std::collections::HashMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fengqiao_core::audit::Actor;
use fengqiao_core::org::OrgKind;
use fengqiao_core::Timestamp;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use fengqiao_world::{Town, TownSpec};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Times the server is killed; a final start then answers what is left.
const KILLS: usize = 20;
const CLIENTS: usize = 4;
const SEED: u64 = 7;
/// The server runs this long (after its first acknowledgement, or after
/// it is ready) before it is killed.
const RUN_MS: std::ops::Range<u64> = 0..600;
/// Nothing in the test waits longer than this in all.
const WHOLE_TEST: Duration = Duration::from_secs(300);
const START_UP: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

backend_tests! {
    async fn acknowledged_incidents_survive_kill_9(db: TestDatabase) {
        let began = Instant::now();
        let dir = tempfile::tempdir().unwrap();
        let binary = Arc::new(Binary {
            data: dir.path().join("data"),
            url: db.url.clone(),
            log: dir.path().join("server.log"),
        });

        // The world intake needs, as an operator makes it: the demo town
        // of one station, no history, and a token of the county bureau.
        let seeded = binary
            .run(&["gen", "--seed", "7", "--stations", "1", "--scale", "1", "--history-days", "0"])
            .await;
        assert!(seeded.status.success(), "gen: {}", text(&seeded.stderr));
        let county = db
            .store
            .organisations_of_kind(OrgKind::CountyBureau)
            .await
            .unwrap()
            .into_iter()
            .next()
            .expect("the town has a county bureau");
        let county_id = county.id.to_string();
        let issued = binary
            .run(&[
                "token", "create", "--name", "110 接警系统（断电测试）", "--org", &county_id,
                "--permission", "report_incidents",
            ])
            .await;
        assert!(issued.status.success(), "token: {}", text(&issued.stderr));
        let issued = text(&issued.stdout);
        let token = after(&issued, "(shown once): ").expect("the token's secret");
        let token_id: i64 = after(&issued, "token issued: id ").unwrap().parse().unwrap();
        let before = db.store.count_incidents().await.unwrap();
        let seeding = began.elapsed();

        let shared = Arc::new(Shared {
            token,
            calls: calls(),
            acks: Mutex::new(HashMap::new()),
            stop: AtomicBool::new(false),
            unanswered: AtomicU64::new(0),
            deadline: began + WHOLE_TEST,
        });
        let (address, serving) = watch::channel(None::<SocketAddr>);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| tokio::spawn(post_calls(shared.clone(), serving.clone(), client)))
            .collect();

        let mut rng = rand::rngs::StdRng::from_entropy();
        let mut start_ups = Duration::ZERO;
        let mut acknowledged_at_kill = Vec::new();
        let mut warm_kills = 0;
        for cycle in 0..KILLS {
            let started = Instant::now();
            let (mut server, at) = binary.serve().await;
            start_ups += started.elapsed();
            let acknowledged = shared.acks.lock().unwrap().len();
            address.send_replace(Some(at));
            // A new server's first intake waits for triage to load (a
            // second or two in a debug build): most kills come once it
            // takes incidents in, every fifth at any moment after start.
            if cycle % 5 != 4 {
                warm_kills += 1;
                let warm_by = Instant::now() + START_UP;
                while shared.acks.lock().unwrap().len() == acknowledged {
                    assert!(Instant::now() < warm_by, "the server took nothing in: {}", tail(&binary.log));
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(rng.gen_range(RUN_MS))).await;
            // std's kill is SIGKILL: no shutdown, no flush, no goodbye.
            address.send_replace(None);
            server.kill().unwrap();
            server.wait().unwrap();
            acknowledged_at_kill.push(shared.acks.lock().unwrap().len());
        }

        // Back once more: every call not answered yet is answered now.
        let (mut server, at) = binary.serve().await;
        address.send_replace(Some(at));
        shared.stop.store(true, Ordering::SeqCst);
        for client in clients {
            client.await.expect("a client ends once its calls are answered");
        }
        let acks: Vec<(String, Ack)> = shared
            .acks
            .lock()
            .unwrap()
            .iter()
            .map(|(key, ack)| (key.clone(), ack.clone()))
            .collect();
        let unanswered = shared.unanswered.load(Ordering::SeqCst);
        assert!(unanswered > 0, "no kill interrupted a request: the test tested nothing");
        let took_in = std::iter::once(&0)
            .chain(&acknowledged_at_kill)
            .zip(&acknowledged_at_kill)
            .filter(|(before, after)| after > before)
            .count();
        assert!(
            took_in >= warm_kills,
            "the server took incidents in between kills: {acknowledged_at_kill:?}"
        );

        // The same key again is the same incident, answered as a replay.
        let replays: Vec<_> = acks
            .chunks(acks.len().div_ceil(CLIENTS).max(1))
            .map(|chunk| {
                let (chunk, shared) = (chunk.to_vec(), shared.clone());
                tokio::spawn(async move {
                    for (key, ack) in chunk {
                        let answer = post(at, &shared.token, &key, &shared.calls[ack.call])
                            .await
                            .expect("the server answers a replay");
                        assert_eq!(answer.status, 200, "{key} again: {}", answer.body);
                        assert_eq!(answer.body["id"], ack.id, "{key} again");
                        assert_eq!(
                            answer.body["receipt_number"].as_str(),
                            Some(ack.receipt.as_str()),
                            "{key} again"
                        );
                    }
                })
            })
            .collect();
        for replay in replays {
            replay.await.expect("every key answers with its incident");
        }
        server.kill().unwrap();
        server.wait().unwrap();

        // Stored exactly once: as many incidents as keys, each found by its
        // receipt number and by its key.
        let stored = db.store.count_incidents().await.unwrap() - before;
        assert_eq!(stored as usize, acks.len(), "one incident per acknowledged key");
        let actor = Actor::Token(token_id).to_stored();
        let mut receipts = std::collections::HashSet::new();
        for (key, ack) in &acks {
            assert!(receipts.insert(ack.receipt.clone()), "receipt {} twice", ack.receipt);
            let by_receipt = db.store.incident_id_by_receipt(&ack.receipt).await.unwrap();
            assert_eq!(by_receipt, Some(ack.id), "{key}: by receipt number");
            let by_key = db.store.idempotency_key(&actor, key).await.unwrap();
            assert_eq!(by_key.map(|k| k.incident_id), Some(ack.id), "{key}: by key");
        }
        let problems = db.store.integrity_problems_for_tests().await.unwrap();
        assert!(problems.is_empty(), "integrity check: {problems:?}");
        let verified = binary.run(&["audit", "verify"]).await;
        assert!(verified.status.success(), "audit verify: {}", text(&verified.stdout));
        assert!(text(&verified.stdout).contains("entries verified"), "{}", text(&verified.stdout));

        eprintln!(
            "{}: {} kills, {} incidents acknowledged and stored once, {} requests unanswered \
             and posted again; seeding {:.1} s, start-ups {:.1} s in all, whole test {:.1} s",
            db.store.backend().name(),
            KILLS,
            acks.len(),
            unanswered,
            seeding.as_secs_f64(),
            start_ups.as_secs_f64(),
            began.elapsed().as_secs_f64()
        );
    }
}

/// The binary on the test's data directory and database.
struct Binary {
    data: PathBuf,
    url: String,
    /// The servers' standard error, every start appended.
    log: PathBuf,
}

impl Binary {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fengqiao"));
        command
            .args(args)
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--database-url")
            .arg(&self.url)
            .env_remove("FENGQIAO_DATABASE_URL")
            .env("RUST_LOG", "warn");
        command
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        tokio::task::spawn_blocking(move || command.output().expect("run fengqiao"))
            .await
            .unwrap()
    }

    /// `fengqiao serve` on a port of its choosing; returns once it listens.
    async fn serve(self: &Arc<Self>) -> (Child, SocketAddr) {
        let binary = self.clone();
        tokio::task::spawn_blocking(move || binary.serve_blocking())
            .await
            .unwrap()
    }

    fn serve_blocking(&self) -> (Child, SocketAddr) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = self
            .command(&["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start fengqiao serve");
        let stdout = child.stdout.take().unwrap();
        let (ready, listening) = std::sync::mpsc::channel();
        // Reads the announcement, then whatever else comes until the
        // process ends, so the pipe never fills.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = after(&line, "serving at http://") {
                    let _ = ready.send(url);
                }
            }
        });
        match listening.recv_timeout(START_UP) {
            Ok(url) => (child, url.parse().expect("a socket address")),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().unwrap();
                panic!("the server did not start ({status}): {}", tail(&self.log));
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Ack {
    call: usize,
    id: i64,
    receipt: String,
}

struct Shared {
    token: String,
    /// Request bodies, the town's calls as a call-taking system sends them.
    calls: Vec<String>,
    /// Idempotency key → what the server answered.
    acks: Mutex<HashMap<String, Ack>>,
    /// Post nothing new; finish what is unanswered.
    stop: AtomicBool,
    /// Requests that got no whole answer (the server was killed).
    unanswered: AtomicU64,
    deadline: Instant,
}

/// One client: its own keys, one request at a time; a request without an
/// answer is posted again, with the same key, until one comes.
async fn post_calls(
    shared: Arc<Shared>,
    mut serving: watch::Receiver<Option<SocketAddr>>,
    client: usize,
) {
    let mut sent = 0usize;
    let mut unanswered: Option<(String, usize)> = None;
    loop {
        assert!(
            Instant::now() < shared.deadline,
            "client {client}: still unanswered at the deadline: {unanswered:?}"
        );
        let (key, call) = match unanswered.take() {
            Some(pending) => pending,
            None if shared.stop.load(Ordering::SeqCst) => return,
            None => {
                sent += 1;
                let n = sent * CLIENTS + client;
                (format!("crash-{client}-{sent}"), n % shared.calls.len())
            }
        };
        let Some(at) = *serving.borrow_and_update() else {
            unanswered = Some((key, call));
            let _ = tokio::time::timeout(Duration::from_millis(200), serving.changed()).await;
            continue;
        };
        match post(at, &shared.token, &key, &shared.calls[call]).await {
            Some(answer) if answer.status == 200 || answer.status == 201 => {
                let ack = Ack {
                    call,
                    id: answer.body["id"].as_i64().expect("an incident id"),
                    receipt: answer.body["receipt_number"]
                        .as_str()
                        .expect("a receipt number")
                        .to_owned(),
                };
                let previous = shared.acks.lock().unwrap().insert(key.clone(), ack);
                assert!(previous.is_none(), "{key} was acknowledged twice");
            }
            Some(answer) => panic!(
                "client {client}: {key} refused with {}: {}",
                answer.status, answer.body
            ),
            None => {
                shared.unanswered.fetch_add(1, Ordering::SeqCst);
                unanswered = Some((key, call));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

struct Answer {
    status: u16,
    body: Value,
}

/// `POST /api/v1/incidents` on a connection of its own; `None` unless a
/// whole answer came (the server died before or while answering).
async fn post(at: SocketAddr, token: &str, key: &str, body: &str) -> Option<Answer> {
    let exchange = async {
        let mut stream = TcpStream::connect(at).await.ok()?;
        let request = format!(
            "POST /api/v1/incidents HTTP/1.1\r\nHost: {at}\r\nAuthorization: Bearer {token}\r\n\
             Idempotency-Key: {key}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        Some(response)
    };
    let response = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .ok()??;
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..end]).ok()?;
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })?;
    let content = &response[end + 4..];
    if content.len() != length {
        return None;
    }
    let body = serde_json::from_slice(content).unwrap_or(Value::Null);
    Some(Answer { status, body })
}

/// The town's calls of a few days, as the demo's simulator posts them.
fn calls() -> Vec<String> {
    let town = Town::generate(TownSpec {
        seed: SEED,
        stations: 1,
        scale: 1,
    });
    let calls = fengqiao_world::Calls::new(&town, SEED, 100.0);
    (0..20)
        .flat_map(|day| calls.day(day, Timestamp(0)))
        .map(|call| {
            serde_json::json!({
                "source": call.source,
                "text": call.text,
                "location_text": call.location_text,
                "reporter_name": call.reporter_name,
                "reporter_phone": call.reporter_phone,
            })
            .to_string()
        })
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What follows `marker` on its line.
fn after(text: &str, marker: &str) -> Option<String> {
    text.lines().find_map(|line| {
        line.split_once(marker)
            .map(|(_, rest)| rest.trim().to_owned())
    })
}

fn tail(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
