//! `GET /user_management/authorize` and the hosted sign-in flow behind it.
//!
//! Validation follows OAuth 2.0: an unknown `client_id` or a `redirect_uri` that is not
//! allowed is answered in place (400, HTML for browsers, JSON otherwise) because the
//! redirect target cannot be trusted; every later problem (`response_type`, PKCE
//! parameters, an unknown organization, a cancelled sign-in) goes back to the redirect URI as
//! `?error=…&error_description=…&state=…`. `state` is echoed exactly as decoded, so a client
//! comparing it byte for byte with its own copy (as authkit-nextjs does) matches.
//!
//! With auto-approve on, `authorize` answers `302 redirect_uri?code=…&state=…` at once for
//! the `login_hint` user (or the configured/first seeded user). Otherwise it serves the
//! hosted sign-in page, whose forms post back to `/__emulator/sign-in/{request}`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::pages::{self, OrgChoice, SignInView, UserChoice};
use crate::pkce;
use crate::seed::{is_valid_redirect_uri, looks_like_email, Impersonator};
use crate::state::AppState;
use crate::store::{Authorization, AuthorizeParams, Chosen, Landing, PendingRec, Store};
use crate::urlencoded;

/// `GET /user_management/authorize`.
pub(crate) async fn authorize(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let html = wants_html(&headers);
    let pairs = match urlencoded::parse(query.as_deref().unwrap_or_default()) {
        Ok(pairs) => pairs,
        Err(e) => return reject(html, "invalid_request", &e.to_string()),
    };
    let one = |key: &str| urlencoded::single(&pairs, key);

    let client_id = match one("client_id") {
        Ok(Some(c)) => c,
        Ok(None) => return reject(html, "invalid_request", "client_id is required."),
        Err(()) => return reject(html, "invalid_request", "client_id is repeated."),
    };
    let redirect_uri = match one("redirect_uri") {
        Ok(Some(r)) => r,
        Ok(None) => return reject(html, "invalid_request", "redirect_uri is required."),
        Err(()) => return reject(html, "invalid_request", "redirect_uri is repeated."),
    };

    let mut store = app.lock();
    if client_id != store.settings.client_id {
        return reject(
            html,
            "invalid_client",
            &format!("Unknown client_id `{client_id}`; this emulator's client id is in its start-up output."),
        );
    }
    let allowed = &store.settings.redirect_uris;
    // With no redirect URI registered, only this machine's URLs are accepted: the emulator
    // must not redirect a browser to any site a crafted link names.
    if !is_valid_redirect_uri(redirect_uri)
        || (allowed.is_empty() && !crate::seed::is_loopback_uri(redirect_uri))
        || (!allowed.is_empty()
            && !allowed
                .iter()
                .any(|a| crate::seed::matches_registered(a, redirect_uri, true)))
    {
        return reject(
            html,
            "invalid_request",
            &format!(
                "redirect_uri `{redirect_uri}` is not an allowed redirect URI for this client \
                 (register it in the seed's `redirect_uris` or with the builder's `redirect_uri`; \
                 unregistered, only localhost URLs are accepted)."
            ),
        );
    }

    // From here on, errors go back to the application at its redirect URI.
    let state = one("state").ok().flatten();
    let mut params = AuthorizeParams {
        redirect_uri: redirect_uri.to_owned(),
        state: state.map(str::to_owned),
        code_challenge: None,
        screen_hint: None,
        login_hint: None,
        organization_id: None,
    };
    if one("state").is_err() {
        return redirect_error(
            &params,
            "invalid_request",
            "state is repeated.",
            StatusCode::FOUND,
        );
    }
    let values = match parse_options(&pairs, &store) {
        Ok(v) => v,
        Err((error, description)) => {
            return redirect_error(&params, error, &description, StatusCode::FOUND)
        }
    };
    params.code_challenge = values.code_challenge;
    params.screen_hint = values.screen_hint;
    params.login_hint = values.login_hint;
    params.organization_id = values.organization_id;

    if let Some(choice) = store.auto_approve_user(params.login_hint.as_deref()) {
        let user = match choice {
            Ok(user) => user,
            Err(hint) if hint.is_empty() => {
                return redirect_error(
                    &params,
                    "access_denied",
                    "Auto-approve is on but the seed has no users.",
                    StatusCode::FOUND,
                )
            }
            Err(hint) => {
                return redirect_error(
                    &params,
                    "access_denied",
                    &format!("No seeded user has the login_hint email `{hint}`."),
                    StatusCode::FOUND,
                )
            }
        };
        let chosen = Chosen {
            user_id: user.id.clone(),
            impersonator: user.impersonator.clone(),
            method: method_of(user.authentication_method.as_deref()),
        };
        let selects = store
            .user(&chosen.user_id)
            .is_some_and(|u| u.organization_selection_required);
        let org = match store.landing_org(&chosen.user_id, params.organization_id.as_deref()) {
            Ok(org) => org,
            // The app asks at the code exchange (`organization_selection_required`).
            Err(Landing::Choose(orgs)) if selects => {
                return finish(
                    &mut store,
                    None,
                    &params,
                    chosen,
                    None,
                    Some(orgs),
                    StatusCode::FOUND,
                )
            }
            Err(Landing::Choose(orgs)) => orgs.into_iter().next(),
            Err(Landing::NotMember(org)) => {
                return redirect_error(
                    &params,
                    "access_denied",
                    &format!("The auto-approved user is not a member of organization `{org}`."),
                    StatusCode::FOUND,
                )
            }
        };
        return finish(
            &mut store,
            None,
            &params,
            chosen,
            org,
            None,
            StatusCode::FOUND,
        );
    }

    let sign_up = params.screen_hint.as_deref() == Some("sign-up");
    let prefill = params.login_hint.clone();
    let request_id = match store.open_pending(params) {
        Ok(id) => id,
        Err(_) => return unavailable(),
    };
    if sign_up {
        Html(pages::sign_up(&request_id, prefill.as_deref(), None)).into_response()
    } else {
        render_sign_in(&store, &request_id, None, StatusCode::OK)
    }
}

struct Options {
    code_challenge: Option<String>,
    screen_hint: Option<String>,
    login_hint: Option<String>,
    organization_id: Option<String>,
}

/// The redirectable parameters, or `(error, description)`.
fn parse_options(
    pairs: &[(String, String)],
    store: &Store,
) -> Result<Options, (&'static str, String)> {
    let one = |key: &str| {
        urlencoded::single(pairs, key)
            .map_err(|()| ("invalid_request", format!("{key} is repeated.")))
    };
    match one("response_type")? {
        Some("code") => {}
        Some(other) => {
            return Err((
                "unsupported_response_type",
                format!("response_type `{other}` is not supported; use `code`."),
            ))
        }
        None => {
            return Err((
                "invalid_request",
                "response_type=code is required.".to_owned(),
            ))
        }
    }
    let code_challenge = match (one("code_challenge")?, one("code_challenge_method")?) {
        (None, None) => None,
        (Some(challenge), Some("S256")) => {
            if !pkce::is_valid_challenge(challenge) {
                return Err((
                    "invalid_request",
                    "code_challenge must be the 43-character base64url SHA-256 of the verifier."
                        .to_owned(),
                ));
            }
            Some(challenge.to_owned())
        }
        (Some(_), _) => {
            return Err((
                "invalid_request",
                "code_challenge_method must be S256.".to_owned(),
            ))
        }
        (None, Some(_)) => {
            return Err((
                "invalid_request",
                "code_challenge_method was given without a code_challenge.".to_owned(),
            ))
        }
    };
    let screen_hint = match one("screen_hint")? {
        None => None,
        Some(hint @ ("sign-in" | "sign-up")) => Some(hint.to_owned()),
        Some(other) => {
            return Err((
                "invalid_request",
                format!("screen_hint `{other}` is not one of sign-in, sign-up."),
            ))
        }
    };
    let organization_id = match one("organization_id")? {
        Some(org) if store.org(org).is_none() => {
            return Err((
                "invalid_request",
                format!("Organization `{org}` does not exist."),
            ))
        }
        other => other.map(str::to_owned),
    };
    Ok(Options {
        code_challenge,
        screen_hint,
        login_hint: one("login_hint")?.map(str::to_owned),
        organization_id,
    })
}

/// `GET /__emulator/sign-in/{request}?screen=sign-in|sign-up`: switches between the pages.
pub(crate) async fn page(
    State(app): State<AppState>,
    Path(request_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let store = app.lock();
    let Some(pending) = store.pending(&request_id) else {
        return expired();
    };
    let pairs = urlencoded::parse(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let screen = urlencoded::single(&pairs, "screen").ok().flatten();
    if screen == Some("sign-up") {
        let prefill = pending.params.login_hint.as_deref();
        Html(pages::sign_up(&request_id, prefill, None)).into_response()
    } else {
        render_sign_in(&store, &request_id, None, StatusCode::OK)
    }
}

/// `POST /__emulator/sign-in/{request}`: the forms of the hosted pages, one function per
/// form `action`.
pub(crate) async fn submit(
    State(app): State<AppState>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(form) = Form::parse(&body) else {
        return page_error(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form data could not be read.",
        );
    };
    let mut store = app.lock();
    let Some(pending) = store.pending(&request_id).cloned() else {
        return expired();
    };
    let store = &mut *store;
    match form.field("action").unwrap_or_default() {
        "cancel" => {
            store.pending.remove(&request_id);
            redirect_error(
                &pending.params,
                "access_denied",
                "The user cancelled the sign-in.",
                StatusCode::SEE_OTHER,
            )
        }
        "pick" => pick(store, &request_id, &pending, &form),
        "password" => sign_in_with_password(store, &request_id, &pending, &form),
        "sign_up" => sign_up(store, &request_id, &pending, &form),
        "impersonate" => impersonate(store, &request_id, &pending, &form),
        "organization" => choose_organization(store, &request_id, &pending, &form),
        _ => page_error(
            StatusCode::BAD_REQUEST,
            "Unknown action",
            "This form action is not one the sign-in page knows.",
        ),
    }
}

/// A submitted form of the hosted pages.
struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// The body as `application/x-www-form-urlencoded` UTF-8, or `None`.
    fn parse(body: &[u8]) -> Option<Self> {
        let pairs = urlencoded::parse(std::str::from_utf8(body).ok()?).ok()?;
        Some(Self { pairs })
    }

    /// A field's value, trimmed; `None` when absent or blank.
    fn field(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The password as typed: not trimmed, spaces are part of it.
    fn password(&self) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == "password")
            .map_or("", |(_, v)| v.as_str())
    }
}

/// `action=pick`: sign in as the seeded user picked from the list.
fn pick(store: &mut Store, request_id: &str, pending: &PendingRec, form: &Form) -> Response {
    let Some(user) = form.field("user_id").and_then(|id| store.user(id)) else {
        return render_sign_in(
            store,
            request_id,
            Some("Pick one of the seeded users."),
            StatusCode::BAD_REQUEST,
        );
    };
    let chosen = Chosen {
        user_id: user.id.clone(),
        impersonator: user.impersonator.clone(),
        method: method_of(user.authentication_method.as_deref()),
    };
    proceed(store, request_id, pending, chosen)
}

/// `action=password`: sign in with a seeded user's email and password.
fn sign_in_with_password(
    store: &mut Store,
    request_id: &str,
    pending: &PendingRec,
    form: &Form,
) -> Response {
    let email = form.field("email").unwrap_or_default();
    let password = form.password();
    let user = store.user_by_email(email).filter(|u| {
        u.password.as_ref().is_some_and(|p| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                p.expose_secret().as_bytes(),
                password.as_bytes(),
            )
            .is_ok()
        })
    });
    let Some(user) = user else {
        return render_sign_in(
            store,
            request_id,
            Some("The email or password is not right."),
            StatusCode::UNAUTHORIZED,
        );
    };
    let chosen = Chosen {
        user_id: user.id.clone(),
        impersonator: user.impersonator.clone(),
        method: "Password".to_owned(),
    };
    proceed(store, request_id, pending, chosen)
}

/// `action=sign_up`: a new user with an email and a password.
fn sign_up(store: &mut Store, request_id: &str, pending: &PendingRec, form: &Form) -> Response {
    let email = form.field("email").unwrap_or_default();
    let password = form.password();
    let problem = if !looks_like_email(email) {
        Some("Enter a valid email address.")
    } else if password.is_empty() {
        Some("Choose a password.")
    } else if store.user_by_email(email).is_some() {
        Some("A user with this email already exists; sign in instead.")
    } else {
        None
    };
    if let Some(problem) = problem {
        let page = pages::sign_up(request_id, Some(email), Some(problem));
        return (StatusCode::BAD_REQUEST, Html(page)).into_response();
    }
    let first = form.field("first_name").map(str::to_owned);
    let last = form.field("last_name").map(str::to_owned);
    let Ok(user_id) = store.sign_up(email, password, first, last) else {
        return unavailable();
    };
    let chosen = Chosen {
        user_id,
        impersonator: None,
        method: "Password".to_owned(),
    };
    proceed(store, request_id, pending, chosen)
}

/// `action=impersonate`: an admin who may impersonate signs in as another user.
fn impersonate(store: &mut Store, request_id: &str, pending: &PendingRec, form: &Form) -> Response {
    let admin = form
        .field("admin_id")
        .and_then(|id| store.user(id))
        .filter(|u| u.can_impersonate);
    let target = form.field("user_id").and_then(|id| store.user(id));
    let (Some(admin), Some(target)) = (admin, target) else {
        return render_sign_in(
            store,
            request_id,
            Some("Choose an admin who may impersonate, and a user."),
            StatusCode::BAD_REQUEST,
        );
    };
    if admin.id == target.id {
        return render_sign_in(
            store,
            request_id,
            Some("An admin cannot impersonate themselves."),
            StatusCode::BAD_REQUEST,
        );
    }
    let chosen = Chosen {
        user_id: target.id.clone(),
        impersonator: Some(Impersonator {
            email: admin.email.clone(),
            reason: form.field("reason").map(str::to_owned),
        }),
        method: "Impersonation".to_owned(),
    };
    proceed(store, request_id, pending, chosen)
}

/// `action=organization`: the signed-in user picks the organization to land in, among
/// their active memberships.
fn choose_organization(
    store: &mut Store,
    request_id: &str,
    pending: &PendingRec,
    form: &Form,
) -> Response {
    let Some(chosen) = pending.chosen.clone() else {
        return render_sign_in(
            store,
            request_id,
            Some("Sign in first."),
            StatusCode::BAD_REQUEST,
        );
    };
    let org = form.field("organization_id").filter(|org| {
        store
            .active_memberships(&chosen.user_id)
            .iter()
            .any(|m| m.org_id == *org)
    });
    match org {
        Some(org) => {
            let org = Some(org.to_owned());
            finish(
                store,
                Some(request_id),
                &pending.params,
                chosen,
                org,
                None,
                StatusCode::SEE_OTHER,
            )
        }
        None => render_org_choice(store, request_id, &chosen, StatusCode::BAD_REQUEST),
    }
}

/// The user is known: land in an organization, or ask which one.
fn proceed(store: &mut Store, request_id: &str, pending: &PendingRec, chosen: Chosen) -> Response {
    let params = &pending.params;
    match store.landing_org(&chosen.user_id, params.organization_id.as_deref()) {
        Ok(org) => finish(
            store,
            Some(request_id),
            params,
            chosen,
            org,
            None,
            StatusCode::SEE_OTHER,
        ),
        // The user's seed says the app asks at the code exchange, not this page.
        Err(Landing::Choose(orgs))
            if store
                .user(&chosen.user_id)
                .is_some_and(|u| u.organization_selection_required) =>
        {
            finish(
                store,
                Some(request_id),
                params,
                chosen,
                None,
                Some(orgs),
                StatusCode::SEE_OTHER,
            )
        }
        Err(Landing::Choose(_)) => {
            let response = render_org_choice(store, request_id, &chosen, StatusCode::OK);
            if let Some(p) = store.pending.get_mut(request_id) {
                p.chosen = Some(chosen);
            }
            response
        }
        Err(Landing::NotMember(org)) => {
            let name = store
                .org(&org)
                .map_or_else(|| org.clone(), |o| o.name.clone());
            let message = format!("That user is not a member of {name}, which this app asked for.");
            render_sign_in(store, request_id, Some(&message), StatusCode::FORBIDDEN)
        }
    }
}

/// Issues the code and sends the browser back to the application; `choices` are the
/// organizations the code exchange will ask the user to choose among.
fn finish(
    store: &mut Store,
    request_id: Option<&str>,
    params: &AuthorizeParams,
    chosen: Chosen,
    org_id: Option<String>,
    choices: Option<Vec<String>>,
    status: StatusCode,
) -> Response {
    if let Some(id) = request_id {
        store.pending.remove(id);
    }
    let code = store.issue_code(Authorization {
        user_id: chosen.user_id,
        org_id,
        impersonator: chosen.impersonator,
        method: chosen.method,
        code_challenge: params.code_challenge.clone(),
        organization_choices: choices,
    });
    match code {
        Ok(code) => redirect_to(params, &[("code", &code)], status),
        Err(_) => unavailable(),
    }
}

fn method_of(seeded: Option<&str>) -> String {
    seeded.unwrap_or("Password").to_owned()
}

fn render_sign_in(
    store: &Store,
    request_id: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let Some(pending) = store.pending(request_id) else {
        return expired();
    };
    let users: Vec<UserChoice> = store
        .users
        .iter()
        .map(|u| UserChoice {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.full_name(),
            orgs: store.active_memberships(&u.id).len(),
            can_impersonate: u.can_impersonate,
        })
        .collect();
    let organization = pending
        .params
        .organization_id
        .as_deref()
        .and_then(|id| store.org(id))
        .map(|o| o.name.as_str());
    let view = SignInView {
        request_id,
        users: &users,
        prefill_email: pending.params.login_hint.as_deref(),
        organization,
        error,
    };
    (status, Html(pages::sign_in(&view))).into_response()
}

fn render_org_choice(
    store: &Store,
    request_id: &str,
    chosen: &Chosen,
    status: StatusCode,
) -> Response {
    let label = store
        .user(&chosen.user_id)
        .map_or_else(String::new, |u| u.email.clone());
    let orgs: Vec<OrgChoice> = store
        .active_memberships(&chosen.user_id)
        .into_iter()
        .filter_map(|m| {
            store.org(&m.org_id).map(|o| OrgChoice {
                id: o.id.clone(),
                name: o.name.clone(),
                role: m.primary_role().to_owned(),
            })
        })
        .collect();
    (
        status,
        Html(pages::choose_organization(request_id, &label, &orgs)),
    )
        .into_response()
}

/// `302`/`303` to the redirect URI with `pairs` and the echoed `state` appended.
fn redirect_to(params: &AuthorizeParams, pairs: &[(&str, &str)], status: StatusCode) -> Response {
    let Ok(mut url) = url::Url::parse(&params.redirect_uri) else {
        return page_error(
            StatusCode::BAD_REQUEST,
            "Bad redirect URI",
            "The redirect URI cannot be parsed.",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
        if let Some(state) = &params.state {
            query.append_pair("state", state);
        }
    }
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => {
            let mut response = status.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => page_error(
            StatusCode::BAD_REQUEST,
            "Bad redirect URI",
            "The redirect URI cannot be used.",
        ),
    }
}

fn redirect_error(
    params: &AuthorizeParams,
    error: &str,
    description: &str,
    status: StatusCode,
) -> Response {
    redirect_to(
        params,
        &[("error", error), ("error_description", description)],
        status,
    )
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A 400 that cannot be redirected: HTML for browsers, OAuth-style JSON otherwise.
fn reject(html: bool, error: &str, description: &str) -> Response {
    if html {
        page_error(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            description,
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response()
    }
}

fn page_error(status: StatusCode, title: &str, text: &str) -> Response {
    (status, Html(pages::message(title, text))).into_response()
}

fn expired() -> Response {
    page_error(
        StatusCode::BAD_REQUEST,
        "This sign-in has expired",
        "Go back to the application and start signing in again.",
    )
}

fn unavailable() -> Response {
    page_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "The emulator could not generate a random value.",
    )
}
