//! The one place that decides who may see, watch and change a video. Every route asks here;
//! none decides on its own.

use super::{Principal, Privacy, Scope};

/// What [`may_watch`] and [`may_manage`] need to know of a video.
#[derive(Debug, Clone, Copy)]
pub struct VideoAcl {
    /// The owner's user id; `None` for videos imported by an operator (admins manage them).
    pub owner_id: Option<i64>,
    pub privacy: Privacy,
}

fn is_owner(caller: &Principal, acl: VideoAcl) -> bool {
    acl.owner_id == Some(caller.user_id)
}

/// True when `caller` may see the video's metadata and play it: anyone for public and
/// unlisted videos (unlisted ones are reachable by link only), the owner (with the `read`
/// scope) or an administrator for private ones.
pub fn may_watch(caller: Option<&Principal>, acl: VideoAcl) -> bool {
    match acl.privacy {
        Privacy::Public | Privacy::Unlisted => true,
        Privacy::Private => caller.is_some_and(|c| c.is_admin() || (is_owner(c, acl) && c.can(Scope::Read))),
    }
}

/// True when `caller` may edit or delete the video: its owner with the `upload` scope, or an
/// administrator.
pub fn may_manage(caller: Option<&Principal>, acl: VideoAcl) -> bool {
    caller.is_some_and(|c| c.is_admin() || (is_owner(c, acl) && c.can(Scope::Upload)))
}

/// Why a caller may not upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadDenied {
    /// Not signed in: 401.
    SignedOut,
    /// Signed in without the `upload` scope (a viewer, or a read-only token): 403.
    NotAllowed,
}

/// Whether `caller` may upload videos: uploaders and admins, with the `upload` scope.
pub fn may_upload(caller: Option<&Principal>) -> Result<(), UploadDenied> {
    match caller {
        None => Err(UploadDenied::SignedOut),
        Some(c) if c.can(Scope::Upload) => Ok(()),
        Some(_) => Err(UploadDenied::NotAllowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, ScopeSet, Via};

    fn user(id: i64, role: Role, scopes: ScopeSet) -> Principal {
        Principal {
            user_id: id,
            username: format!("u{id}"),
            role,
            scopes,
            via: Via::ApiToken,
        }
    }

    #[test]
    fn private_videos_are_for_owner_and_admin_only() {
        let acl = VideoAcl {
            owner_id: Some(1),
            privacy: Privacy::Private,
        };
        let owner = user(1, Role::Uploader, Role::Uploader.scopes());
        let other = user(2, Role::Uploader, Role::Uploader.scopes());
        let admin = user(3, Role::Admin, Role::Admin.scopes());
        let admin_read_only = user(3, Role::Admin, ScopeSet::of(&[Scope::Read]));
        let owner_upload_only = user(1, Role::Uploader, ScopeSet::of(&[Scope::Upload]));
        assert!(may_watch(Some(&owner), acl));
        assert!(may_watch(Some(&admin), acl));
        assert!(!may_watch(Some(&other), acl));
        assert!(!may_watch(None, acl));
        assert!(
            !may_watch(Some(&admin_read_only), acl),
            "admin powers need the admin scope"
        );
        assert!(!may_watch(Some(&owner_upload_only), acl));
        assert!(may_manage(Some(&owner_upload_only), acl));
        assert!(!may_manage(Some(&other), acl));
        assert!(may_manage(Some(&admin), acl));
    }

    #[test]
    fn unlisted_and_public_are_watchable_by_anyone_but_managed_by_owner() {
        for privacy in [Privacy::Public, Privacy::Unlisted] {
            let acl = VideoAcl {
                owner_id: Some(1),
                privacy,
            };
            assert!(may_watch(None, acl));
            assert!(!may_manage(None, acl));
            assert!(!may_manage(
                Some(&user(2, Role::Uploader, Role::Uploader.scopes())),
                acl
            ));
        }
        let viewer = user(4, Role::Viewer, Role::Viewer.scopes());
        assert_eq!(may_upload(Some(&viewer)), Err(UploadDenied::NotAllowed));
        assert_eq!(may_upload(None), Err(UploadDenied::SignedOut));
    }
}
