//! `ontograph token create|list|revoke`: API tokens, directly in the
//! database (a server reading it refuses a revoked token from its next
//! read of the token table). The secret is printed once, to stdout.

use crate::auth::{Anonymous, Auth, AuthConfig, Principal};
use crate::config::{DbArgs, TokenCommand};
use crate::store;

async fn auth(db: &DbArgs) -> anyhow::Result<Auth> {
    let store = store::connect(&db.database_url).await?;
    let config = AuthConfig { anonymous: Anonymous::Read, jwt: None, refresh: std::time::Duration::from_secs(5) };
    Ok(Auth::start(store, config).await?)
}

pub async fn token_cmd(cmd: TokenCommand) -> anyhow::Result<()> {
    let by = Principal::local("cli");
    match cmd {
        TokenCommand::Create(args) => {
            let auth = auth(&args.db).await?;
            let created = auth.create_token(&args.name, args.role, args.branches, args.expires, &by, None).await?;
            let t = &created.record;
            let expires = t.expires_at.map_or("never".to_owned(), |e| e.to_rfc3339());
            eprintln!("created token {} (role {}, expires {expires}); its secret, shown once:", t.name, t.role);
            println!("{}", created.secret);
        }
        TokenCommand::List(args) => {
            for t in auth(&args.db).await?.tokens() {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                    (None, Some(e)) if e <= chrono::Utc::now() => format!("expired {}", e.to_rfc3339()),
                    (None, Some(e)) => format!("expires {}", e.to_rfc3339()),
                    (None, None) => "active".to_owned(),
                };
                let branches = if t.branches.is_empty() { "*".to_owned() } else { t.branches.join(",") };
                println!("{}\t{}\t{branches}\t{state}", t.name, t.role);
            }
        }
        TokenCommand::Revoke(args) => {
            let auth = auth(&args.db).await?;
            auth.revoke_token(&args.name, &by, None).await?;
            auth.audit().flush().await;
            eprintln!("revoked token {}", args.name);
        }
    }
    Ok(())
}
