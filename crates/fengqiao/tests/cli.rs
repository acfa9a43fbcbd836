//! The binary as an operator runs it: first administrator, audit
//! verification (exit code and the entry it names), configuration sources.

use std::process::{Command, Output};

use fengqiao_store::testing::TestDatabase;
use fengqiao_store::{backend_tests, Backend};

fn fengqiao(data_dir: &std::path::Path, database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(database_url)
        .env_remove("FENGQIAO_DATABASE_URL")
        .output()
        .expect("run fengqiao")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

backend_tests! {
    async fn the_first_administrator_and_a_tampered_audit_log(db: TestDatabase) {
        let data = tempfile::tempdir().unwrap();
        let url = db.url.clone();
        let run = |args: &'static [&'static str]| {
            let (dir, url) = (data.path().to_owned(), url.clone());
            async move { tokio::task::spawn_blocking(move || fengqiao(&dir, &url, args)).await.unwrap() }
        };

        let added = run(&["user", "add", "--username", "first.admin", "--admin", "--org-name", "成都市公安局"]).await;
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
        let text = stdout(&added);
        assert!(text.contains("成都市公安局"), "{text}");
        assert!(text.contains("first.admin"), "{text}");
        let password_line = text.lines().find(|l| l.contains("password (shown once)")).unwrap();
        assert!(password_line.rsplit(": ").next().unwrap().len() >= 16);

        let again = run(&["user", "add", "--username", "first.admin", "--admin"]).await;
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("username"), "the refusal names the field");

        let listed = stdout(&run(&["user", "list"]).await);
        assert!(listed.contains("first.admin") && listed.contains("administrator"), "{listed}");

        let verified = run(&["audit", "verify"]).await;
        assert!(verified.status.success(), "{}", stdout(&verified));
        assert!(stdout(&verified).contains("2 entries verified"), "{}", stdout(&verified));

        let drop_guard = match db.store.backend() {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_delete",
            Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        };
        db.store.execute_raw_for_tests(drop_guard).await.unwrap();
        db.store.execute_raw_for_tests("DELETE FROM audit_log WHERE seq = 1").await.unwrap();
        let broken = run(&["audit", "verify"]).await;
        assert_eq!(broken.status.code(), Some(2), "{}", stdout(&broken));
        assert!(stdout(&broken).contains("entry 1"), "{}", stdout(&broken));
    }
}

#[test]
fn config_show_names_each_source_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fengqiao.toml"),
        "bind = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .current_dir(dir.path())
        .args(["config", "show", "--data-dir", "/srv/fengqiao"])
        .env("FENGQIAO_PERSONAL_DATA_KEY", "ab".repeat(32))
        .env(
            "FENGQIAO_DATABASE_URL",
            "postgres://fq:s3cret@db.internal/fq",
        )
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = stdout(&output);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .unwrap()
            .to_owned()
    };
    assert!(
        line("bind").contains("127.0.0.1:9999") && line("bind").contains("TOML"),
        "{text}"
    );
    assert!(line("data_dir").contains("command-line flag"), "{text}");
    assert!(line("personal_data_key").contains("<redacted>"), "{text}");
    assert!(
        line("database_url").contains("fq:<redacted>@db.internal"),
        "{text}"
    );
    assert!(line("session_idle_minutes").contains("default"), "{text}");
    assert!(!text.contains("abab") && !text.contains("s3cret"), "{text}");
}
