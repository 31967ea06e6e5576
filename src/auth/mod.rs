//! Who is calling and what they may do.
//!
//! Read in this order: [`Role`], [`Scope`] and [`Principal`] (here), [`policy`] (the one place
//! that decides who may see or change a video), [`credentials`] (username, email and password
//! rules), [`password`] (Argon2id), [`keys`] (the HMAC key ring), [`access`] (short-lived JWT
//! access tokens), [`secret`] (refresh and API tokens), [`playback`] (signed playback grants),
//! [`limits`] (sign-in and registration rate limits).

pub mod access;
pub mod credentials;
pub mod keys;
pub mod limits;
pub mod password;
pub mod playback;
pub mod policy;
pub mod secret;

use serde::{Deserialize, Serialize};

/// An account's role. The first account created is `Admin`; later ones get the configured
/// default (`auth.default_role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, on every video and account.
    Admin,
    /// Uploads videos and manages their own.
    Uploader,
    /// Watches, including videos shared with them by link.
    Viewer,
}

impl Role {
    /// The role's name as stored and shown: `admin`, `uploader`, `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Uploader => "uploader",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a role name. Errors: any other string.
    pub fn parse(s: &str) -> Result<Role, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "uploader" => Ok(Role::Uploader),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("unknown role {other:?}: use admin, uploader or viewer")),
        }
    }

    /// The scopes this role can exercise; a session has all of them, an API token a subset.
    pub fn scopes(self) -> ScopeSet {
        match self {
            Role::Admin => ScopeSet::of(&[Scope::Read, Scope::Write, Scope::Upload, Scope::Admin]),
            Role::Uploader => ScopeSet::of(&[Scope::Read, Scope::Write, Scope::Upload]),
            Role::Viewer => ScopeSet::of(&[Scope::Read, Scope::Write]),
        }
    }
}

/// A permission an API token may carry; a browser session carries every scope of its role.
/// The README's `### Scopes` table lists which route needs which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// See the caller's own unlisted and private videos (metadata, media, listings) and the
    /// account's watch history and progress.
    Read,
    /// Act as the account in what others see or what is kept for it: post, edit and delete
    /// comments, save watch progress. (Counting a view needs no scope: anonymous viewers
    /// count too.)
    Write,
    /// Upload, edit and delete the caller's own videos.
    Upload,
    /// Act as an administrator (every video); only for admin accounts.
    Admin,
}

impl Scope {
    const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Upload, Scope::Admin];

    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Upload => 2,
            Scope::Admin => 4,
            Scope::Write => 8,
        }
    }

    /// The scope's name: `read`, `write`, `upload`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Upload => "upload",
            Scope::Admin => "admin",
        }
    }
}

/// A set of [`Scope`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeSet(u8);

impl ScopeSet {
    /// The set of the given scopes.
    pub fn of(scopes: &[Scope]) -> ScopeSet {
        ScopeSet(scopes.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// True when `scope` is in the set.
    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in both sets.
    pub fn intersect(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    /// True when every scope of `self` is in `other`.
    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The scopes, in the order read, write, upload, admin.
    pub fn to_vec(self) -> Vec<Scope> {
        Scope::ALL.into_iter().filter(|s| self.has(*s)).collect()
    }

    /// Comma-separated names, as stored: `read,write,upload`.
    pub fn to_csv(self) -> String {
        self.to_vec().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Parses comma-separated names (`read,write,upload`). Errors: an unknown name or an empty
    /// list.
    pub fn parse_csv(s: &str) -> Result<ScopeSet, String> {
        let mut set = ScopeSet::default();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let scope = Scope::ALL
                .into_iter()
                .find(|x| x.as_str().eq_ignore_ascii_case(name))
                .ok_or_else(|| format!("unknown scope {name:?}: use read, write, upload or admin"))?;
            set.0 |= scope.bit();
        }
        if set.0 == 0 {
            return Err("name at least one scope: read, write, upload or admin".into());
        }
        Ok(set)
    }
}

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The access-token cookie of a browser session (subject to CSRF checks).
    Session,
    /// An `Authorization: Bearer` API token.
    ApiToken,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// What this request may do: the role's scopes, narrowed by the API token's.
    pub scopes: ScopeSet,
    pub via: Via,
}

impl Principal {
    /// True when the request carries `scope`.
    pub fn can(&self, scope: Scope) -> bool {
        self.scopes.has(scope)
    }

    /// True for an administrator acting with the admin scope.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.can(Scope::Admin)
    }
}

/// Who may see a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    /// Listed, searchable, playable by anyone; media cacheable by shared caches.
    Public,
    /// Reachable by anyone with its link; never listed; media behind playback grants.
    Unlisted,
    /// Only its owner and administrators; media behind playback grants.
    Private,
}

impl Privacy {
    /// The stored name: `public`, `unlisted`, `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Public => "public",
            Privacy::Unlisted => "unlisted",
            Privacy::Private => "private",
        }
    }

    /// Parses a privacy level. Errors: any other string, with what is accepted.
    pub fn parse(s: &str) -> Result<Privacy, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Ok(Privacy::Public),
            "unlisted" => Ok(Privacy::Unlisted),
            "private" => Ok(Privacy::Private),
            other => Err(format!("unknown privacy {other:?}: use public, unlisted or private")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_narrow_by_role() {
        let s = ScopeSet::parse_csv("read, UPLOAD").unwrap();
        assert_eq!(s.to_csv(), "read,upload");
        assert!(ScopeSet::parse_csv("read,delete").is_err());
        assert!(ScopeSet::parse_csv(" , ").is_err());
        assert!(!s.is_subset_of(Role::Viewer.scopes()));
        assert!(s.is_subset_of(Role::Uploader.scopes()));
        assert_eq!(s.intersect(Role::Viewer.scopes()).to_vec(), vec![Scope::Read]);
    }
}
