//! WorkOS answers to a code exchange that are not a session yet but not a failure either:
//! `organization_selection_required`, `email_verification_required`, the MFA answers and
//! `sso_required` (the codes `@workos-inc/node` turns into an `AuthenticationException`).
//!
//! **Organization selection** is finished here: the callback renders a small page listing
//! the organizations of WorkOS's answer, each a `POST` button to the callback's own path,
//! and the post completes the sign-in with WorkOS's organization-selection grant
//! (`grant_type=urn:workos:oauth:grant-type:organization-selection`), keeping the return
//! path (and custom state) of the flow.
//!
//! Threat model. WorkOS's `pending_authentication_token` is a credential: with the client
//! secret it becomes a session for the user. It never reaches the browser in the clear:
//! it is sealed (iron, with the cookie password, ten minutes) into an `HttpOnly` flow
//! cookie, `<flow cookie name>-select`, set only on the callback's host, and the page holds
//! only organization ids and a random form key. The post must carry both the cookie and
//! the key sealed in it (compared in constant time) and come from this site (`Origin` /
//! `Sec-Fetch-Site`, and the cookie's `SameSite`), so a page elsewhere cannot make the
//! browser choose (CSRF), another browser holding the page or the form key alone has
//! nothing to replay, and a cookie that was tampered with, forged or sealed with another
//! password does not unseal. The key is single use (as a flow's state is), and the cookie
//! is deleted by every answer to the post.
//!
//! A public client (no API key) cannot send the grant (`@workos-inc/node` sends it only
//! with the key), so there the page's buttons are links that start a new sign-in into the
//! chosen organization (`organization_id`), with the same return path; no token is kept.
//!
//! The pages carry stable class names (`authkit-page`, `authkit-org-picker`,
//! `authkit-org-list`, `authkit-org`, `authkit-org-choose`, `authkit-notice`,
//! `authkit-actions`) and no inline style or script, so they render under a strict
//! `Content-Security-Policy` (`default-src 'self'; style-src 'self'`) and take the app's
//! own stylesheet ([`CallbackOptions::stylesheet`](crate::CallbackOptions::stylesheet)).

use crate::authkit::AuthKit;
use crate::config::AuthKitConfig;
use crate::seal;
use crate::session::{named_flow_set_cookie, pkce_delete_cookie, PKCE_STATE_TTL};
use crate::workos::{AuthenticationErrorCode, WorkOsError};
use html_escape::{encode_quoted_attribute, encode_text};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The suffix of the pending-selection cookie's name (after the flow cookies' base name).
const SELECT_COOKIE_SUFFIX: &str = "-select";

/// The most organizations the picker lists (WorkOS's answer is the user's memberships).
pub(crate) const MAX_LISTED_ORGANIZATIONS: usize = 100;

/// An organization offered by WorkOS's `organization_selection_required` answer.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub(crate) struct OfferedOrganization {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
}

/// What the pending-selection cookie seals.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PendingSelection {
    /// WorkOS's `pending_authentication_token`.
    pub(crate) token: String,
    /// The random key the picker's forms post back (base64url, 32 bytes).
    pub(crate) form_key: String,
    /// The flow's return path (already reduced to this site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) return_pathname: Option<String>,
    /// The flow's custom state, for `on_success`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) custom_state: Option<String>,
}

impl fmt::Debug for PendingSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSelection")
            .field("token", &"[redacted]")
            .field("return_pathname", &self.return_pathname)
            .finish_non_exhaustive()
    }
}

impl PendingSelection {
    /// A pending choice with a fresh form key.
    pub(crate) fn new(
        token: String,
        return_pathname: Option<String>,
        custom_state: Option<String>,
    ) -> Option<Self> {
        Some(Self {
            token,
            form_key: crate::encoding::random_base64url::<32>()?,
            return_pathname,
            custom_state,
        })
    }

    /// Sealed for the cookie (ten minutes, as a flow's state).
    pub(crate) fn seal(&self, config: &AuthKitConfig) -> Option<String> {
        seal::seal(self, config.passwords(), Some(PKCE_STATE_TTL)).ok()
    }

    /// The choice a cookie holds, when it unseals (not tampered with, not expired).
    pub(crate) fn unseal(sealed: &str, config: &AuthKitConfig) -> Option<Self> {
        seal::unseal(sealed, config.passwords()).ok()
    }

    /// Whether `key` (from the posted form) is this choice's form key, in constant time.
    pub(crate) fn accepts(&self, key: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(self.form_key.as_bytes(), key.as_bytes())
            .is_ok()
    }
}

/// The pending-selection cookie's name: `<flow cookie base name>-select`.
pub(crate) fn select_cookie_name(kit: &AuthKit) -> String {
    format!("{}{SELECT_COOKIE_SUFFIX}", kit.config().cookie().flow_name)
}

/// Its `Set-Cookie` value.
pub(crate) fn select_set_cookie(kit: &AuthKit, sealed: &str) -> String {
    named_flow_set_cookie(
        kit.config().cookie(),
        &select_cookie_name(kit),
        sealed,
        Some(kit.config().redirect_uri().as_str()),
    )
}

/// Its deletion.
pub(crate) fn select_delete_cookie(kit: &AuthKit) -> String {
    pkce_delete_cookie(
        kit.config().cookie(),
        &select_cookie_name(kit),
        Some(kit.config().redirect_uri().as_str()),
    )
}

/// The organizations and the token of an `organization_selection_required` answer, when
/// it carries both (at most [`MAX_LISTED_ORGANIZATIONS`], each with an id).
pub(crate) fn organization_choice(
    error: &WorkOsError,
) -> Option<(String, Vec<OfferedOrganization>)> {
    if error.authentication_required()
        != Some(AuthenticationErrorCode::OrganizationSelectionRequired)
    {
        return None;
    }
    let http = error.http()?;
    let token = http.pending_authentication_token()?.to_owned();
    let organizations: Vec<OfferedOrganization> = http
        .body()?
        .get("organizations")?
        .as_array()?
        .iter()
        .filter_map(|o| serde_json::from_value::<OfferedOrganization>(o.clone()).ok())
        .filter(|o| !o.id.is_empty())
        .take(MAX_LISTED_ORGANIZATIONS)
        .collect();
    (!token.is_empty() && !organizations.is_empty()).then_some((token, organizations))
}

/// The head of the crate's own small pages: no inline style or script (they render under a
/// strict Content-Security-Policy), the crate's stylesheet
/// ([`AUTHKIT_STYLESHEET_PATH`](crate::AUTHKIT_STYLESHEET_PATH)), then the app's when it
/// gave one.
pub(crate) fn page_head(title: &str, stylesheet: Option<&str>) -> String {
    let link = std::iter::once(crate::csp::AUTHKIT_STYLESHEET_PATH)
        .chain(stylesheet)
        .map(|href| {
            format!(
                "<link rel=\"stylesheet\" href=\"{}\">",
                encode_quoted_attribute(href)
            )
        })
        .collect::<String>();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title>{link}</head>",
        encode_text(title)
    )
}

/// The picker: one form per organization. With `form_key`, each form posts
/// `organization_id` and the key to `action` (the callback's path); without (a public
/// client), each organization is a link `start_link(id)` gives (a new sign-in into it).
pub(crate) fn picker_page(
    organizations: &[OfferedOrganization],
    action: &str,
    form_key: Option<&str>,
    start_link: impl Fn(&str) -> String,
    stylesheet: Option<&str>,
) -> String {
    let mut items = String::new();
    for org in organizations {
        let label = if org.name.trim().is_empty() {
            org.id.as_str()
        } else {
            org.name.as_str()
        };
        let label = encode_text(label);
        let id = encode_quoted_attribute(&org.id);
        match form_key {
            Some(key) => items.push_str(&format!(
                "<li class=\"authkit-org\"><form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"organization_id\" value=\"{id}\">\
<input type=\"hidden\" name=\"form_key\" value=\"{key}\">\
<button type=\"submit\" class=\"authkit-org-choose\">{label}</button></form></li>",
                action = encode_quoted_attribute(action),
                key = encode_quoted_attribute(key),
            )),
            None => items.push_str(&format!(
                "<li class=\"authkit-org\"><a class=\"authkit-org-choose\" href=\"{href}\">{label}</a></li>",
                href = encode_quoted_attribute(&start_link(&org.id)),
            )),
        }
    }
    format!(
        "{head}<body class=\"authkit-page\"><main class=\"authkit-org-picker\">\
<h1>Choose an organization</h1>\
<p class=\"authkit-notice\">You belong to several organizations. Choose the one to sign in to.</p>\
<ul class=\"authkit-org-list\">{items}</ul></main></body></html>",
        head = page_head("Choose an organization", stylesheet),
    )
}

/// A page for an answer that asks the user to do something first (verify their email,
/// set up or pass MFA, use SSO): what happened, what to do, and a link to sign in again.
pub(crate) fn step_page(
    title: &str,
    message: &str,
    code: &str,
    sign_in: &str,
    stylesheet: Option<&str>,
) -> String {
    format!(
        "{head}<body class=\"authkit-page\"><main class=\"authkit-step\">\
<h1>{title}</h1><p class=\"authkit-notice\">{message}</p>\
<p class=\"authkit-actions\"><a href=\"{sign_in}\">Sign in again</a> · <a href=\"/\">Home</a></p>\
<p class=\"authkit-code\"><code>{code}</code></p></main></body></html>",
        head = page_head(title, stylesheet),
        title = encode_text(title),
        message = encode_text(message),
        sign_in = encode_quoted_attribute(sign_in),
        code = encode_text(code),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn error(body: serde_json::Value) -> WorkOsError {
        WorkOsError::from_http_status(
            "POST /user_management/authenticate",
            StatusCode::FORBIDDEN,
            Some(body),
        )
    }

    #[test]
    fn the_choice_needs_a_token_and_organizations() {
        let ok = error(serde_json::json!({
            "code": "organization_selection_required",
            "pending_authentication_token": "pat_1",
            "organizations": [{"id": "org_1", "name": "Acme"}, {"id": ""}, {"name": "no id"}],
        }));
        let (token, orgs) = organization_choice(&ok).unwrap();
        assert_eq!(token, "pat_1");
        assert_eq!(orgs.len(), 1);
        for body in [
            serde_json::json!({"code": "organization_selection_required", "organizations": [{"id": "org_1"}]}),
            serde_json::json!({"code": "organization_selection_required", "pending_authentication_token": "pat_1", "organizations": []}),
            serde_json::json!({"code": "mfa_challenge", "pending_authentication_token": "pat_1", "organizations": [{"id": "org_1"}]}),
        ] {
            assert!(
                organization_choice(&error(body.clone())).is_none(),
                "{body}"
            );
        }
    }

    /// Names and ids are escaped; the page holds no inline style or script.
    #[test]
    fn the_picker_escapes_and_has_no_inline_code() {
        let orgs = [OfferedOrganization {
            id: "org_\"><script>".into(),
            name: "<img src=x onerror=alert(1)>".into(),
        }];
        let html = picker_page(&orgs, "/callback", Some("k"), |_| String::new(), None);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            !html.contains("<style") && !html.contains("style="),
            "{html}"
        );
        let html = step_page("T", "<b>m</b>", "c", "/auth/sign-in", Some("/s.css"));
        assert!(html.contains("&lt;b&gt;m&lt;/b&gt;"), "{html}");
        assert!(
            html.contains("<link rel=\"stylesheet\" href=\"/s.css\">"),
            "{html}"
        );
        assert!(
            !html.contains("<style") && !html.contains("style="),
            "{html}"
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let p = PendingSelection::new("pat_secret".into(), None, None).unwrap();
        assert!(!format!("{p:?}").contains("pat_secret"));
        assert!(p.accepts(&p.form_key.clone()));
        assert!(!p.accepts("x"));
    }
}
