//! The Leptos app of the server-function and SSR suites: server functions that call the
//! session API (`with_auth`, `ensure_signed_in`, `refresh_session`,
//! `switch_to_organization`, `get_token_claims`, `check_recent_auth`, the sign-in links,
//! `validate_api_key`, `save_session`) and pages that read the session during SSR, served
//! by [`Harness::with_leptos`] (SSR pages at `/page/…`, server functions at `/api/…`).
#![allow(dead_code, unreachable_pub)]

use super::harness::{cookie_value, session_set_cookie, Harness, Options};
use authkit_leptos::{AuthError, SignInOptions};
use leptos::prelude::*;
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::path;
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};

// ------------------------------------------------------------------ server functions

#[server(prefix = "/api", endpoint = "whoami")]
pub async fn whoami_fn() -> Result<Option<String>, AuthError> {
    Ok(authkit_leptos::with_auth().await?.user.map(|u| u.email))
}

#[server(prefix = "/api", endpoint = "protected")]
pub async fn protected_fn() -> Result<String, AuthError> {
    Ok(authkit_leptos::ensure_signed_in().await?.user.email)
}

/// `refresh_session(organization_id)`, then what a later `with_auth` in the same request
/// sees: `(organization, email, access token before, access token after)`.
#[server(prefix = "/api", endpoint = "refresh")]
pub async fn refresh_fn(
    organization_id: Option<String>,
) -> Result<(Option<String>, Option<String>, String, String), AuthError> {
    let token = |auth: &authkit_leptos::Auth| {
        auth.access_token
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default()
    };
    let before = token(&authkit_leptos::with_auth().await?);
    let refreshed = authkit_leptos::refresh_session(organization_id.as_deref()).await?;
    let later = authkit_leptos::with_auth().await?;
    assert_eq!(later.organization_id, refreshed.organization_id);
    let after = token(&later);
    assert_eq!(
        after,
        refreshed.access_token.as_str(),
        "later reads see the refreshed session"
    );
    Ok((
        refreshed.claims.organization_id,
        later.user.map(|u| u.email),
        before,
        after,
    ))
}

/// Switches, then checks a later `with_auth` in the same request sees the new org.
#[server(prefix = "/api", endpoint = "switch")]
pub async fn switch_fn(
    organization_id: String,
) -> Result<(Option<String>, Option<String>), AuthError> {
    let switched = authkit_leptos::switch_to_organization(&organization_id).await?;
    let later = authkit_leptos::with_auth().await?;
    assert_eq!(later.organization_id, switched.organization_id);
    Ok((switched.claims.organization_id, switched.claims.role))
}

#[server(prefix = "/api", endpoint = "claims-map")]
pub async fn claims_map_fn() -> Result<Option<serde_json::Value>, AuthError> {
    authkit_leptos::get_token_claims().await
}

/// The WorkOS claims every access token may carry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StandardClaims {
    pub sub: String,
    pub sid: String,
    pub org_id: Option<String>,
    pub role: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub entitlements: Vec<String>,
    #[serde(default)]
    pub feature_flags: Vec<String>,
}

#[server(prefix = "/api", endpoint = "claims-typed")]
pub async fn claims_typed_fn() -> Result<Option<StandardClaims>, AuthError> {
    authkit_leptos::get_token_claims().await
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImpersonationClaims {
    pub act: Option<Actor>,
}

#[server(prefix = "/api", endpoint = "claims-nested")]
pub async fn claims_nested_fn() -> Result<Option<ImpersonationClaims>, AuthError> {
    authkit_leptos::get_token_claims().await
}

/// `(is_stale, authenticated_at as Unix seconds)`.
#[server(prefix = "/api", endpoint = "recent")]
pub async fn recent_fn(max_age_secs: u64) -> Result<(bool, Option<u64>), AuthError> {
    let r = authkit_leptos::check_recent_auth(Duration::from_secs(max_age_secs)).await?;
    let at = r
        .authenticated_at
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    Ok((r.is_stale, at))
}

/// The sign-in and sign-up URLs for these options.
#[server(prefix = "/api", endpoint = "links")]
pub async fn links_fn(
    return_to: Option<String>,
    organization_id: Option<String>,
    prompt: Option<String>,
    login_hint: Option<String>,
) -> Result<(String, String), AuthError> {
    let options = SignInOptions {
        return_to,
        organization_id,
        prompt,
        login_hint,
        ..Default::default()
    };
    Ok((
        authkit_leptos::get_sign_in_url(options.clone()).await?,
        authkit_leptos::get_sign_up_url(options).await?,
    ))
}

#[server(prefix = "/api", endpoint = "apikey")]
pub async fn api_key_fn() -> Result<Option<String>, AuthError> {
    Ok(authkit_leptos::validate_api_key().await?.map(|k| k.id))
}

/// A custom flow: the app exchanges a code itself and stores the result with
/// `save_session`; a later `with_auth` in the same request sees the new session.
#[server(prefix = "/api", endpoint = "custom-flow")]
pub async fn custom_flow_fn(code: String, verifier: String) -> Result<Option<String>, AuthError> {
    let kit = expect_context::<authkit_leptos::AuthKit>();
    let response = kit
        .client()
        .authenticate_with_code(&code, Some(&verifier))
        .await
        .map_err(|e| AuthError::WorkOs(e.to_string()))?;
    let saved = authkit_leptos::save_session(response).await?;
    let later = authkit_leptos::with_auth().await?;
    assert_eq!(later.user.as_ref().map(|u| &u.id), Some(&saved.user.id));
    Ok(later.user.map(|u| u.email))
}

// ------------------------------------------------------------------ SSR pages

#[component]
pub fn TestApp() -> impl IntoView {
    view! {
        <LeptosRouter>
            <Routes fallback=|| "not found">
                <Route path=path!("/page/protected") view=ProtectedPage />
                <Route path=path!("/page/join") view=ProtectedPage />
                <Route path=path!("/page/whoami") view=WhoamiPage />
                <Route path=path!("/page/home") view=|| "home" />
            </Routes>
        </LeptosRouter>
    }
}

#[component]
pub fn ProtectedPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| protected_fn());
    view! {
        <Suspense fallback=|| "loading">
            {move || Suspend::new(async move {
                match data.await {
                    Ok(email) => format!("Hello, {email}!"),
                    Err(e) => format!("error: {e}"),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn WhoamiPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| whoami_fn());
    view! {
        <Suspense fallback=|| "loading">
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(email)) => format!("signed in as {email}"),
                    Ok(None) => "signed out".to_owned(),
                    Err(e) => format!("error: {e}"),
                }
            })}
        </Suspense>
    }
}

// ------------------------------------------------------------------ harnesses and helpers

/// [`Harness::with_leptos`] around [`TestApp`].
pub async fn leptos(options: Options) -> Harness {
    Harness::with_leptos(options, TestApp).await
}

/// [`leptos`] with the default options (the demo seed, Ada signs in).
pub async fn leptos_default() -> Harness {
    leptos(Options::default()).await
}

/// The id of the organization called `name` among those `cookie`'s user can switch to.
pub async fn organization_id(h: &Harness, cookie: &str, name: &str) -> String {
    let (_, json, _) = h.call("authkit/organizations", "", Some(cookie)).await;
    json.as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no organization {name}: {json}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Loads `/dashboard` with the expired session `cookie`: the refreshed cookie value and
/// what the page saw (signed in).
pub async fn refresh_with_a_page_load(h: &Harness, cookie: &str) -> (String, serde_json::Value) {
    let (response, json) = h.whoami("/dashboard", Some(cookie)).await;
    assert!(json["user"].is_string(), "{json}");
    let refreshed = cookie_value(&session_set_cookie(&response).expect("refreshed")).to_owned();
    (refreshed, json)
}
