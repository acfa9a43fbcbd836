//! Administration from the server's own console: accounts, API tokens and
//! the audit log. Every change is audited with the actor `system`, source `cli`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Subcommand;
use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::org::{NewOrganisation, OrgKind};
use fengqiao_core::personal::PersonalData;
use fengqiao_core::role::{Permission, Role, Roles};
use fengqiao_core::secret::{self, API_TOKEN_PREFIX};
use fengqiao_core::user::{Password, PasswordHashing, Username};
use fengqiao_core::{Clock, SystemClock};
use fengqiao_server::error::ApiError;
use fengqiao_server::i18n::Lang;
use fengqiao_server::services::accounts::{self, NewAccount};
use fengqiao_server::{AppState, ServerSettings};
use fengqiao_store::{Store, StoredUser};

use crate::config::Settings;
use crate::serve::{cipher, open_store};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account; its generated password is printed once.
    Add {
        #[arg(long)]
        username: String,
        /// Organisation id (see `fengqiao user list`). On an empty database,
        /// leave it out: the top organisation is created from --org-name.
        #[arg(long)]
        org: Option<i64>,
        /// Name of the top organisation to create on an empty database.
        #[arg(long, default_value = "市公安局")]
        org_name: String,
        /// A role (repeatable): operator, community_officer, … auditor.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Shorthand for --role administrator.
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        full_name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// List accounts (names and phones masked).
    List,
    /// Disable an account and end its sessions.
    Disable { username: String },
    /// Give an account a new generated password (printed once) and end its sessions.
    ResetPassword { username: String },
    /// Lift the lock that failed sign-ins put on an account.
    Unlock { username: String },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a token for a machine client; the secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        org: i64,
        /// A permission (repeatable), e.g. view_organisations.
        #[arg(long = "permission", required = true)]
        permissions: Vec<String>,
    },
    /// Revoke a token at once.
    Revoke { id: i64 },
    /// List tokens.
    List,
}

fn console_state(settings: &Settings, store: Store) -> anyhow::Result<AppState> {
    Ok(AppState::new(
        store,
        cipher(settings)?,
        Arc::new(SystemClock),
        PasswordHashing::recommended(),
        ServerSettings::default(),
    ))
}

fn by_console(action: AuditAction, object_type: &'static str, org: Option<i64>) -> AuditEvent {
    AuditEvent::new(Actor::System, action, object_type).org(org)
}

/// Turns a refusal into a sentence for the console, naming the fields.
fn explain(err: ApiError) -> anyhow::Error {
    let problem = err.problem(Lang::Zh);
    let fields: Vec<String> = problem
        .errors
        .iter()
        .map(|f| format!("{}：{}", f.field, f.reason))
        .collect();
    if fields.is_empty() {
        anyhow::anyhow!("{}：{}", problem.title, problem.detail)
    } else {
        anyhow::anyhow!("{}：{}", problem.title, fields.join("；"))
    }
}

async fn find_user(store: &Store, username: &str) -> anyhow::Result<StoredUser> {
    let name = Username::parse(username).map_err(|e| explain(e.into()))?;
    store
        .user_by_username(&name)
        .await?
        .with_context(|| format!("没有账号 {username} / no account named {username}"))
}

pub async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let state = console_state(settings, store.clone())?;
    let now = state.clock.now();
    match command {
        UserCommand::Add {
            username,
            org,
            org_name,
            mut roles,
            admin,
            full_name,
            phone,
        } => {
            if admin {
                roles.push(Role::Administrator.as_str().into());
            }
            let roles = Roles::parse_list(&roles.join(",")).map_err(|e| explain(e.into()))?;
            let org_id = match org {
                Some(id) => {
                    store
                        .organisation(id)
                        .await?
                        .with_context(|| format!("没有编号为 {id} 的组织 / no organisation {id}"))?
                        .id
                }
                None => top_organisation(&store, &org_name).await?,
            };
            let password = Password::generate();
            let shown = password.expose().to_owned();
            let account = NewAccount {
                username: Username::parse(&username).map_err(|e| explain(e.into()))?,
                password,
                org_id,
                roles,
                full_name: full_name
                    .map(|n| PersonalData::name("full_name", &n))
                    .transpose()
                    .map_err(|e| explain(e.into()))?,
                phone: phone
                    .map(|p| PersonalData::phone("phone", &p))
                    .transpose()
                    .map_err(|e| explain(e.into()))?,
            };
            let by = by_console(AuditAction::Create, "user", Some(org_id));
            let id = accounts::create(&state, account, by)
                .await
                .map_err(|e| explain(e.into()))?;
            println!("已创建账号 / account created: {username} (id {id}, organisation {org_id})");
            println!("初始密码（仅显示一次）/ password (shown once): {shown}");
        }
        UserCommand::List => {
            let top = store
                .organisations_within(&fengqiao_core::org::OrgPath::from_stored("/".into()))
                .await?;
            for stored in store.users_within("/").await? {
                let user = &stored.user;
                let org = top
                    .iter()
                    .find(|o| o.id == user.org_id)
                    .map_or("?", |o| o.name.as_str());
                let status = if user.disabled {
                    "已停用 disabled"
                } else if user.locked_at.is_some() {
                    "已锁定 locked"
                } else {
                    "正常 active"
                };
                let name = stored
                    .full_name
                    .as_deref()
                    .and_then(|b| state.cipher.decrypt(b).ok())
                    .map(|v| v.masked())
                    .unwrap_or_default();
                println!(
                    "{:>4}  {:<20} {:<8} {:<36} {:<18} {}",
                    user.id,
                    user.username.as_str(),
                    name,
                    user.roles.to_list(),
                    org,
                    status
                );
            }
        }
        UserCommand::Disable { username } => {
            let stored = find_user(&store, &username).await?;
            let mut tx = store.begin().await?;
            tx.disable_user(stored.user.id, now).await?;
            let event = by_console(AuditAction::Disable, "user", Some(stored.user.org_id))
                .object(stored.user.id);
            tx.append_audit(&event, now).await?;
            tx.commit().await?;
            println!("已停用 / disabled: {username}");
        }
        UserCommand::ResetPassword { username } => {
            let stored = find_user(&store, &username).await?;
            let password = Password::generate();
            let shown = password.expose().to_owned();
            let by = by_console(AuditAction::PasswordReset, "user", Some(stored.user.org_id));
            accounts::set_password(&state, stored.user.id, password, by)
                .await
                .map_err(|e| explain(e.into()))?;
            println!("新密码（仅显示一次）/ new password (shown once): {shown}");
        }
        UserCommand::Unlock { username } => {
            let stored = find_user(&store, &username).await?;
            let mut tx = store.begin().await?;
            tx.unlock_user(stored.user.id, now).await?;
            let event = by_console(
                AuditAction::AccountUnlocked,
                "user",
                Some(stored.user.org_id),
            )
            .object(stored.user.id);
            tx.append_audit(&event, now).await?;
            tx.commit().await?;
            println!("已解锁 / unlocked: {username}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The organisation a first administrator belongs to: the existing top of
/// the tree, or a new one on an empty database.
async fn top_organisation(store: &Store, name: &str) -> anyhow::Result<i64> {
    let all = store
        .organisations_within(&fengqiao_core::org::OrgPath::from_stored("/".into()))
        .await?;
    let roots: Vec<_> = all.iter().filter(|o| o.parent_id.is_none()).collect();
    match roots.as_slice() {
        [] => {
            let now = SystemClock.now();
            let new = NewOrganisation {
                parent_id: None,
                kind: OrgKind::CityBureau,
                department_type: None,
                name: NewOrganisation::validate_name(name).map_err(|e| explain(e.into()))?,
                division_codes: Vec::new(),
            };
            let mut tx = store.begin().await?;
            let org = tx.insert_organisation(&new, now).await?;
            tx.append_audit(
                &by_console(AuditAction::Create, "organisation", Some(org.id)).object(org.id),
                now,
            )
            .await?;
            tx.commit().await?;
            println!(
                "已创建顶层组织 / top organisation created: {} (id {})",
                org.name, org.id
            );
            Ok(org.id)
        }
        [only] => Ok(only.id),
        _ => bail!(
            "有多个顶层组织，请用 --org 指定 / several top organisations: choose one with --org"
        ),
    }
}

pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let now = SystemClock.now();
    match command {
        TokenCommand::Create {
            name,
            org,
            permissions,
        } => {
            let permissions = fengqiao_core::role::token_permissions(&permissions)
                .map_err(|e| explain(e.into()))?;
            store
                .organisation(org)
                .await?
                .with_context(|| format!("没有编号为 {org} 的组织 / no organisation {org}"))?;
            let secret = secret::generate(API_TOKEN_PREFIX);
            let mut tx = store.begin().await?;
            let id = tx
                .insert_api_token(&name, org, &permissions, &secret.hash, "system", now)
                .await?;
            tx.append_audit(
                &by_console(AuditAction::TokenCreated, "api_token", Some(org)).object(id),
                now,
            )
            .await?;
            tx.commit().await?;
            println!("已签发令牌 / token issued: id {id}");
            println!("令牌（仅显示一次）/ secret (shown once): {}", secret.text);
        }
        TokenCommand::Revoke { id } => {
            let token = store
                .api_token(id)
                .await?
                .with_context(|| format!("没有编号为 {id} 的令牌 / no token {id}"))?;
            let mut tx = store.begin().await?;
            if tx.revoke_api_token(id, now).await? {
                tx.append_audit(
                    &by_console(AuditAction::TokenRevoked, "api_token", Some(token.org_id))
                        .object(id),
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            println!("已吊销 / revoked: {id}");
        }
        TokenCommand::List => {
            for token in store.api_tokens_within("/").await? {
                let permissions: Vec<&str> = token
                    .permissions
                    .iter()
                    .map(|p: &Permission| p.as_str())
                    .collect();
                let state = if token.revoked_at.is_some() {
                    "已吊销 revoked"
                } else {
                    "有效 active"
                };
                println!(
                    "{:>4}  {:<24} org {:<4} {:<30} {}",
                    token.id,
                    token.name,
                    token.org_id,
                    permissions.join(","),
                    state
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn verify_audit(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    match store.verify_audit_chain().await? {
        Ok(count) => {
            println!("审计链完整 / audit chain intact: {count} entries verified");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            println!(
                "审计链被破坏：第 {} 条 / audit chain broken at entry {}: {broken}",
                broken.seq(),
                broken.seq()
            );
            Ok(ExitCode::from(2))
        }
    }
}
