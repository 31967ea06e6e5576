//! The one place that decides who may see, watch and change a video. Every route asks here;
//! none decides on its own.

use super::{Principal, Privacy, Scope, Via};
pub use crate::video::VideoAcl;

fn is_owner(caller: &Principal, acl: VideoAcl) -> bool {
    acl.owner_id == Some(caller.user_id)
}

/// True when `caller` may see the video's metadata and play it: anyone for public and
/// unlisted videos (unlisted ones are reachable by link only), the owner (with the `read`
/// scope) or an administrator for private ones and for any video still uploading or failed.
pub fn may_watch(caller: Option<&Principal>, acl: VideoAcl) -> bool {
    let owner_or_admin = || caller.is_some_and(|c| c.is_admin() || (is_owner(c, acl) && c.can(Scope::Read)));
    if acl.owner_only {
        return owner_or_admin();
    }
    match acl.privacy {
        Privacy::Public | Privacy::Unlisted => true,
        Privacy::Private => owner_or_admin(),
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

/// Ok when `caller` carries `scope`; otherwise the sentence for a 403 naming the scope (a
/// browser session carries every scope of its role, an API token those it was created with).
pub fn require_scope(caller: &Principal, scope: Scope) -> Result<(), String> {
    if caller.can(scope) {
        Ok(())
    } else {
        Err(format!(
            "this needs the `{}` scope: create an API token with it, or use a signed-in session",
            scope.as_str()
        ))
    }
}

/// Ok for a signed-in browser session; for an API token, the sentence for a 403. Used for
/// what a leaked token must never do: change the password, create or revoke tokens (OWASP
/// Authentication Cheat Sheet: re-authenticate for sensitive changes).
pub fn require_session(caller: &Principal, what: &str) -> Result<(), String> {
    if caller.via == Via::Session {
        Ok(())
    } else {
        Err(format!(
            "{what} only from a signed-in session: sign in on the site (API tokens cannot do this)"
        ))
    }
}

/// Which videos a caller may see in a listing (search, `/api/me/videos`, a user's page,
/// history): public ones for everyone (except while uploading or after processing failed);
/// unlisted, private, uploading and failed ones only for their owner acting with the `read`
/// scope, and every video for an administrator. Turned into SQL in one place,
/// [`crate::db::visibility_sql`]. The library (`GET /api/videos`) is the public catalogue and
/// always uses [`Listing::PublicOnly`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Public videos only.
    PublicOnly,
    /// Public videos and every video owned by this user id.
    PublicOrOwnedBy(i64),
    /// Every video.
    All,
}

/// The [`Listing`] filter for `caller`. A listing shows a video exactly when [`listable`]
/// says so, which implies [`may_watch`].
pub fn listing_filter(caller: Option<&Principal>) -> Listing {
    match caller {
        Some(c) if c.is_admin() => Listing::All,
        Some(c) if c.can(Scope::Read) => Listing::PublicOrOwnedBy(c.user_id),
        _ => Listing::PublicOnly,
    }
}

/// True when listings show the video to `caller` (what the SQL of [`listing_filter`] selects).
pub fn listable(caller: Option<&Principal>, acl: VideoAcl) -> bool {
    match listing_filter(caller) {
        Listing::All => true,
        Listing::PublicOrOwnedBy(id) => (acl.privacy == Privacy::Public && !acl.owner_only) || acl.owner_id == Some(id),
        Listing::PublicOnly => acl.privacy == Privacy::Public && !acl.owner_only,
    }
}

/// How a request may have a video's media files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaAccess {
    /// A public video: anyone, and shared caches may keep it.
    Shared,
    /// Through a valid grant or a caller allowed to watch: `Cache-Control: private`.
    Private,
}

/// Why a request may not have a video's media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaDenied {
    /// The grant in the URL did not verify (the reason).
    BadGrant(String),
    /// An unlisted video without a grant or a session: 403 saying where to get one.
    NeedsGrant,
    /// A private video the caller may not watch: 404, its existence is not revealed.
    NotFound,
}

/// Whether this request may have the video's media. `grant` is the outcome of verifying the
/// playback grant in the URL ([`super::playback::verify`]), `None` when the URL has none.
/// Public videos: anyone. Others: a valid grant, or a signed-in caller who [`may_watch`].
/// A video still uploading or whose processing failed (`owner_only`): its owner and
/// administrators only, whatever its privacy and whatever grant the URL carries.
pub fn media_access(
    caller: Option<&Principal>,
    acl: VideoAcl,
    grant: Option<Result<(), String>>,
) -> Result<MediaAccess, MediaDenied> {
    if acl.owner_only {
        return if caller.is_some() && may_watch(caller, acl) {
            Ok(MediaAccess::Private)
        } else {
            Err(MediaDenied::NotFound)
        };
    }
    if let Some(verified) = grant {
        return verified.map(|()| MediaAccess::Private).map_err(MediaDenied::BadGrant);
    }
    if acl.privacy == Privacy::Public {
        return Ok(MediaAccess::Shared);
    }
    if caller.is_some() && may_watch(caller, acl) {
        return Ok(MediaAccess::Private);
    }
    if may_watch(None, acl) {
        Err(MediaDenied::NeedsGrant)
    } else {
        Err(MediaDenied::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, ScopeSet};

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
    fn a_video_still_uploading_or_failed_is_for_its_owner_and_admins_whatever_its_privacy() {
        let acl = VideoAcl {
            owner_id: Some(1),
            privacy: Privacy::Public,
            owner_only: true,
        };
        let owner = user(1, Role::Uploader, Role::Uploader.scopes());
        let other = user(2, Role::Uploader, Role::Uploader.scopes());
        let admin = user(3, Role::Admin, Role::Admin.scopes());
        assert!(may_watch(Some(&owner), acl));
        assert!(may_watch(Some(&admin), acl));
        assert!(!may_watch(Some(&other), acl));
        assert!(!may_watch(None, acl));
        assert!(may_watch(
            None,
            VideoAcl {
                owner_only: false,
                ..acl
            }
        ));
    }

    #[test]
    fn media_of_a_failed_or_uploading_video_is_for_its_owner_and_admins_only() {
        let acl = VideoAcl {
            owner_id: Some(1),
            privacy: Privacy::Public,
            owner_only: true,
        };
        let owner = user(1, Role::Uploader, Role::Uploader.scopes());
        let other = user(2, Role::Uploader, Role::Uploader.scopes());
        let admin = user(3, Role::Admin, Role::Admin.scopes());
        assert_eq!(media_access(Some(&owner), acl, None), Ok(MediaAccess::Private));
        assert_eq!(media_access(Some(&admin), acl, None), Ok(MediaAccess::Private));
        assert_eq!(media_access(None, acl, None), Err(MediaDenied::NotFound));
        assert_eq!(
            media_access(Some(&other), acl, Some(Ok(()))),
            Err(MediaDenied::NotFound)
        );
        assert_eq!(
            media_access(None, acl, Some(Ok(()))),
            Err(MediaDenied::NotFound),
            "a grant does not open it"
        );
    }

    #[test]
    fn private_videos_are_for_owner_and_admin_only() {
        let acl = VideoAcl {
            owner_id: Some(1),
            privacy: Privacy::Private,
            owner_only: false,
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
                owner_only: false,
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

    /// Every principal × privacy × scope: listings never show what may not be watched, and
    /// show unlisted and private videos only to the owner with `read` or an admin.
    #[test]
    fn listings_agree_with_may_watch() {
        let scope_sets = [
            ScopeSet::of(&[Scope::Read]),
            ScopeSet::of(&[Scope::Write]),
            ScopeSet::of(&[Scope::Upload]),
            ScopeSet::of(&[Scope::Read, Scope::Write, Scope::Upload, Scope::Admin]),
        ];
        let mut callers = vec![None];
        for role in [Role::Viewer, Role::Uploader, Role::Admin] {
            for id in [1, 2] {
                for s in scope_sets {
                    callers.push(Some(user(id, role, s.intersect(role.scopes()))));
                }
            }
        }
        for (privacy, owner_only) in [Privacy::Public, Privacy::Unlisted, Privacy::Private]
            .into_iter()
            .flat_map(|p| [(p, false), (p, true)])
        {
            let acl = VideoAcl {
                owner_id: Some(1),
                privacy,
                owner_only,
            };
            for c in &callers {
                let c = c.as_ref();
                let shown = listable(c, acl);
                if shown {
                    assert!(may_watch(c, acl), "{c:?} {privacy:?}");
                }
                let owner_reads = c.is_some_and(|p| p.user_id == 1 && p.can(Scope::Read));
                let admin = c.is_some_and(Principal::is_admin);
                assert_eq!(
                    shown,
                    (privacy == Privacy::Public && !owner_only) || owner_reads || admin,
                    "{c:?} {privacy:?} owner_only={owner_only}"
                );
            }
        }
        let grant_free = VideoAcl {
            owner_id: Some(1),
            privacy: Privacy::Unlisted,
            owner_only: false,
        };
        assert_eq!(media_access(None, grant_free, None), Err(MediaDenied::NeedsGrant));
        assert_eq!(media_access(None, grant_free, Some(Ok(()))), Ok(MediaAccess::Private));
    }
}
