//! Principals (who a request acts as) and roles (what they may do).

use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// Roles, each including the one before (docs/security.md has the matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also writes unprotected branches within its branch globs, creates
    /// branches (named within them) and merges into unprotected ones.
    Editor,
    /// Also merges into protected branches, sets protection, deletes branches.
    Maintainer,
    /// Also manages API tokens and reads the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Maintainer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Maintainer => "maintainer",
            Role::Admin => "admin",
        }
    }

    /// A role by name, case-insensitively.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Role::parse(s).ok_or_else(|| format!("unknown role {s:?}: viewer, editor, maintainer or admin"))
    }
}

/// The branches a principal's writes are limited to.
#[derive(Clone, Debug)]
pub enum BranchScope {
    All,
    /// Glob patterns (`*` matches any run of characters, `/` included).
    Globs(Arc<(Vec<String>, GlobSet)>),
}

impl BranchScope {
    /// `All` for no pattern or `*`; `BAD_USER_INPUT` for a bad pattern.
    pub fn new(patterns: &[String]) -> Result<BranchScope> {
        if patterns.is_empty() || patterns.iter().any(|p| p == "*") {
            return Ok(BranchScope::All);
        }
        let mut set = GlobSetBuilder::new();
        for p in patterns {
            let glob = Glob::new(p).map_err(|e| Error::bad_input("branches", format!("{p:?}: {e}")))?;
            set.add(glob);
        }
        let set = set.build().map_err(|e| Error::bad_input("branches", e.to_string()))?;
        Ok(BranchScope::Globs(Arc::new((patterns.to_vec(), set))))
    }

    pub fn allows(&self, branch: &str) -> bool {
        match self {
            BranchScope::All => true,
            BranchScope::Globs(g) => g.1.is_match(branch),
        }
    }

    /// The patterns, `["*"]` for all.
    pub fn patterns(&self) -> Vec<String> {
        match self {
            BranchScope::All => vec!["*".to_owned()],
            BranchScope::Globs(g) => g.0.clone(),
        }
    }
}

/// How a principal was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An API token (its name is the principal's name).
    Token,
    /// A JWT from an identity provider (its `sub`).
    Jwt,
    /// No credentials, where anonymous reading is allowed.
    Anonymous,
    /// Open mode: no authentication is configured.
    Open,
    /// The server itself or the command line.
    Local,
}

/// Who a request acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub scope: BranchScope,
    pub kind: PrincipalKind,
}

impl Principal {
    pub fn anonymous() -> Principal {
        Principal {
            name: "anonymous".into(),
            role: Role::Viewer,
            scope: BranchScope::All,
            kind: PrincipalKind::Anonymous,
        }
    }

    /// Open mode: an admin, named by the client when it says who it is.
    pub fn open(author: Option<&str>) -> Principal {
        let name = author.map(str::trim).filter(|a| !a.is_empty()).unwrap_or("anonymous");
        Principal {
            name: name.chars().take(200).collect(),
            role: Role::Admin,
            scope: BranchScope::All,
            kind: PrincipalKind::Open,
        }
    }

    /// The server or the command line acting for itself.
    pub fn local(name: &str) -> Principal {
        Principal { name: name.into(), role: Role::Admin, scope: BranchScope::All, kind: PrincipalKind::Local }
    }

    /// The commit author: the principal, except an anonymous one in open
    /// mode (no author, as before authentication existed).
    pub fn author(&self) -> Option<String> {
        match (self.kind, self.name.as_str()) {
            (PrincipalKind::Open, "anonymous") => None,
            _ => Some(self.name.clone()),
        }
    }

    /// `FORBIDDEN` (with `extensions.required`) unless the principal has
    /// at least `role`.
    pub fn require(&self, role: Role, action: &str) -> Result<()> {
        if self.role >= role {
            return Ok(());
        }
        Err(Error::Forbidden {
            message: format!("{action} needs the {} role; {} has {}", role.as_str(), self.name, self.role.as_str()),
            required: Some(role.as_str()),
        })
    }

    /// `require(role)`, and `branch` within the principal's branch globs.
    pub fn require_on_branch(&self, role: Role, action: &str, branch: &str) -> Result<()> {
        self.require(role, action)?;
        if self.scope.allows(branch) {
            return Ok(());
        }
        Err(Error::Forbidden {
            message: format!(
                "{action}: {} may write only branches matching {}",
                self.name,
                self.scope.patterns().join(", ")
            ),
            required: Some(role.as_str()),
        })
    }
}
