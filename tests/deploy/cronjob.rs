//! The Kubernetes CronJob: its fields, a schema validator where one is
//! installed, and its container command run as the kubelet would start it.

use std::sync::{Arc, Mutex};

use super::*;

fn documents() -> Vec<Value> {
    let text = read("deploy/kubernetes/cronjob.yaml");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn job() -> Value {
    let docs = documents();
    let cron = docs
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("a CronJob");
    cron["spec"]["jobTemplate"]["spec"].clone()
}

fn container() -> Value {
    job()["template"]["spec"]["containers"][0].clone()
}

#[test]
fn the_cronjob_passes_the_kubernetes_schema_where_a_validator_is_installed() {
    match Command::new("kubernetes-validate")
        .args(["--strict", "deploy/kubernetes/cronjob.yaml"])
        .output()
    {
        Ok(out) => assert!(out.status.success(), "{}", described(&out)),
        Err(e) => eprintln!(
            "skipped: kubernetes-validate is not installed here ({e}); \
             `pip install kubernetes-validate` checks the CronJob against the schema"
        ),
    }
}

#[test]
fn the_cronjob_fails_fast_only_where_a_retry_cannot_help_and_runs_locked_down() {
    let job = job();
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let mut fail_fast = Vec::new();
    for rule in job["podFailurePolicy"]["rules"].as_sequence().unwrap() {
        if rule["action"] == "FailJob" {
            let codes = rule["onExitCodes"]["values"].as_sequence().unwrap();
            fail_fast.extend(codes.iter().map(|c| c.as_i64().unwrap()));
        }
    }
    for code in [65, 66, 77, 78] {
        assert!(
            fail_fast.contains(&code),
            "{code} fails the Job: {fail_fast:?}"
        );
    }
    // 10 completes the Job, as SuccessExitStatus=10 does in systemd: never a
    // failed Job, never retried (the wrapper test below runs it).
    assert!(!fail_fast.contains(&10), "{fail_fast:?}");
    assert!(!fail_fast.contains(&69) && !fail_fast.contains(&75));

    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = container();
    let sc = &c["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"]);

    // With a read-only root, every file handoff writes is on a writable
    // mount, and the ledger on the persistent one.
    let mounts = c["volumeMounts"].as_sequence().unwrap();
    let writable: Vec<String> = mounts
        .iter()
        .filter(|m| m["readOnly"] != true)
        .map(|m| format!("{}/", m["mountPath"].as_str().unwrap()))
        .collect();
    let args = strings(&c["args"]);
    for name in ["--out=", "--ledger=", "--xlsx="] {
        let arg = args.iter().find(|a| a.starts_with(name)).unwrap();
        let path = &arg[name.len()..];
        assert!(
            writable.iter().any(|w| path.starts_with(w.as_str())),
            "{path} not in {writable:?}"
        );
    }
    let ledger = args.iter().find(|a| a.starts_with("--ledger=")).unwrap();
    let mount = mounts
        .iter()
        .find(|m| ledger["--ledger=".len()..].starts_with(m["mountPath"].as_str().unwrap()))
        .unwrap();
    let volumes = pod["volumes"].as_sequence().unwrap();
    let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
    assert!(
        volume["persistentVolumeClaim"]["claimName"].is_string(),
        "{volume:?}"
    );
}

/// A Pushgateway on loopback that keeps every body pushed to it.
async fn gateway() -> (String, Arc<Mutex<Vec<String>>>) {
    let pushes: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&pushes);
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let seen = Arc::clone(&seen);
        async move {
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap();
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, pushes)
}

/// The container's command and arguments, with this test's paths, window
/// and Pushgateway, and its environment (the Secret's token as given).
fn pod_command(night: &Night, gateway: &str, extra: &[&str]) -> Command {
    let c = container();
    let (from, to) = window();
    let swaps = [
        ("/data", night.p("state")),
        ("/exports", night.p("exports")),
        ("http://pushgateway.monitoring:9091", gateway.to_string()),
        (
            "--not-after=22:00",
            format!("--not-before={from} --not-after={to}"),
        ),
        ("--timezone=Europe/Berlin", "--timezone=UTC".to_string()),
    ];
    let command = strings(&c["command"]);
    assert_eq!(command[0], "/bin/sh", "the wrapper: {command:?}");
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]);
    for arg in strings(&c["args"]) {
        cmd.args(replace_all(&arg, &swaps).split(' '));
    }
    cmd.args(extra)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", night.p("bin")))
        .env("ONEMSG_API_URL", night.sim.base_url());
    for var in c["env"].as_sequence().unwrap() {
        let name = var["name"].as_str().unwrap();
        match var["value"].as_str() {
            Some(v) => cmd.env(name, v),
            None => {
                assert_eq!(var["valueFrom"]["secretKeyRef"]["key"], "token");
                cmd.env(name, TOKEN)
            }
        };
    }
    std::fs::create_dir_all(night.path("exports")).unwrap();
    std::fs::copy(
        night.path("deliveries.csv"),
        night.path("exports/deliveries.csv"),
    )
    .unwrap();
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cronjob_container_completes_on_10_and_pushes_the_10() {
    let night = Night::start(2).await;
    let (url, pushes) = gateway().await;
    let out = output(pod_command(&night, &url, &[])).await;
    assert_eq!(out.status.code(), Some(0), "{}", described(&out));
    assert_eq!(night.sent().await, 2);
    let pushes = pushes.lock().unwrap().clone();
    assert_eq!(pushes.len(), 1);
    assert_eq!(
        metric(&pushes[0], "handoff_exit_code"),
        Some(10.0),
        "{}",
        pushes[0]
    );
}

/// The kubelet stops a pod with SIGTERM to its first process, the wrapper:
/// handoff must get it, stop sending, and its 75 must be the pod's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cronjob_wrapper_passes_sigterm_on_and_keeps_handoffs_code() {
    let night = Night::start(30).await;
    let (url, _pushes) = gateway().await;
    let mut cmd = pod_command(&night, &url, &["--rate=2"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    let first = eventually(|| async { (night.sent().await > 0).then_some(()) }).await;
    assert!(first.is_some(), "a first send");
    // SAFETY: `pid` is our own child, still running (it has 29 rows to go).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", described(&out));
    assert!(night.sent().await < 30);
}
