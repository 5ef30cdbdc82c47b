//! Links, buttons and banners: [`SignInLink`], [`SignUpLink`], [`SignOutButton`],
//! [`OrganizationSwitcher`] and [`Impersonation`].

use super::navigate;
use super::provider::use_auth;
use super::server::{list_organizations, organization_name, SwitchOrganization};
use crate::server_fns::SignOut;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The page the router shows now, as `path?query` (reactive).
fn current_page() -> Signal<String> {
    let location = use_location();
    Signal::derive(move || {
        let path = location.pathname.get();
        let search = location.search.get();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    })
}

/// `start?return_to=…&organization_id=…&login_hint=…`.
fn start_href(
    start: &str,
    return_to: &str,
    organization_id: Option<&str>,
    login_hint: Option<&str>,
) -> String {
    let mut href = navigate::sign_in_href(start, return_to);
    let mut extra = form_urlencoded::Serializer::new(String::new());
    if let Some(org) = organization_id {
        extra.append_pair("organization_id", org);
    }
    if let Some(hint) = login_hint {
        extra.append_pair("login_hint", hint);
    }
    let extra = extra.finish();
    if !extra.is_empty() {
        href.push('&');
        href.push_str(&extra);
    }
    href
}

fn start_link(
    sign_up: bool,
    return_to: Option<String>,
    organization_id: Option<String>,
    login_hint: Option<String>,
    children: Option<Children>,
) -> impl IntoView {
    let auth = use_auth();
    let page = if return_to.is_none() {
        Some(current_page())
    } else {
        None
    };
    let href = move || {
        let return_to = return_to
            .clone()
            .or_else(|| page.map(|p| p.get()))
            .unwrap_or_else(|| "/".to_owned());
        auth.with(|s| {
            let start = if sign_up {
                &s.config.sign_up_path
            } else {
                &s.config.sign_in_path
            };
            start_href(
                start,
                &return_to,
                organization_id.as_deref(),
                login_hint.as_deref(),
            )
        })
    };
    let label = if sign_up { "Sign up" } else { "Sign in" };
    // rel="external": the start route is a server route, so the router must not handle
    // the click; it is a plain link that works without JavaScript and sets no cookie
    // while the page renders.
    view! {
        <a href=href rel="external" class=if sign_up { "authkit-sign-up" } else { "authkit-sign-in" }>
            {match children {
                Some(children) => children().into_any(),
                None => label.into_any(),
            }}
        </a>
    }
}

/// A link that starts signing in (as `getSignInUrl()` rendered into a link), returning to
/// `return_to` (default: the page it is on). A plain `<a rel="external">` that works without
/// JavaScript. Place it inside the `<Router>` unless `return_to` is given.
#[component]
pub fn SignInLink(
    /// Where to come back to after signing in (a same-origin path; default: this page).
    #[prop(optional, into)]
    return_to: Option<String>,
    /// Sign in to this organization (`org_…`).
    #[prop(optional, into)]
    organization_id: Option<String>,
    /// Pre-fill the email address.
    #[prop(optional, into)]
    login_hint: Option<String>,
    /// The link's content (default "Sign in").
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    start_link(false, return_to, organization_id, login_hint, children)
}

/// A link that starts signing up (AuthKit's sign-up screen), as [`SignInLink`] does for
/// signing in.
#[component]
pub fn SignUpLink(
    /// Where to come back to after signing up (default: this page).
    #[prop(optional, into)]
    return_to: Option<String>,
    /// Sign up into this organization.
    #[prop(optional, into)]
    organization_id: Option<String>,
    /// Pre-fill the email address.
    #[prop(optional, into)]
    login_hint: Option<String>,
    /// The link's content (default "Sign up").
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    start_link(true, return_to, organization_id, login_hint, children)
}

/// A sign-out button: an `<ActionForm>` posting to the crate's [`sign_out`](crate::sign_out)
/// server function, so it works with and without JavaScript. It deletes the session
/// cookie and sends the browser to the WorkOS logout URL, which ends the WorkOS session
/// and comes back to `return_to`.
#[component]
pub fn SignOutButton(
    /// Where to land afterwards (a same-origin path; default `/`).
    #[prop(optional, into)]
    return_to: Option<String>,
    /// The button's content (default "Sign out").
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let action = ServerAction::<SignOut>::new();
    let return_to = return_to.unwrap_or_else(|| "/".to_owned());
    view! {
        <ActionForm action=action attr:class="authkit-sign-out">
            <input type="hidden" name="return_to" value=return_to />
            <button type="submit">
                {match children {
                    Some(children) => children().into_any(),
                    None => "Sign out".into_any(),
                }}
            </button>
        </ActionForm>
    }
}

/// A "sign out everywhere" button: an `<ActionForm>` posting to the crate's
/// [`sign_out_everywhere`](crate::sign_out_everywhere) server function (works with and
/// without JavaScript). Every WorkOS session of the user is revoked — the other browsers
/// and devices are signed out at their next request, on every replica — and then this
/// browser, as [`SignOutButton`] does. Renders nothing when signed out.
#[component]
pub fn SignOutEverywhereButton(
    /// Where to land afterwards (a same-origin path; default `/`).
    #[prop(optional, into)]
    return_to: Option<String>,
    /// The button's content (default "Sign out everywhere").
    #[prop(optional)]
    children: Option<ChildrenFn>,
) -> impl IntoView {
    let auth = use_auth();
    let action = ServerAction::<crate::SignOutEverywhere>::new();
    let return_to = StoredValue::new(return_to.unwrap_or_else(|| "/".to_owned()));
    let children = StoredValue::new(children);
    view! {
        <Show when=move || auth.is_signed_in()>
            <ActionForm action=action attr:class="authkit-sign-out-everywhere">
                <input type="hidden" name="return_to" value=return_to.get_value() />
                <button type="submit">
                    {children.with_value(|c| match c {
                        Some(children) => children().into_any(),
                        None => "Sign out everywhere".into_any(),
                    })}
                </button>
            </ActionForm>
        </Show>
    }
}

/// The user's active sessions ("your sessions"), as WorkOS reports them: when each started,
/// how, from which address and browser, the current one marked. A `<table
/// class="authkit-sessions">` rendered on the server (and read again when the session
/// changes); renders nothing when signed out.
#[component]
pub fn SessionList() -> impl IntoView {
    let auth = use_auth();
    let session = Memo::new(move |_| auth.with(|s| s.session_id.clone()));
    let sessions = Resource::new(
        move || session.get(),
        |sid| async move {
            match sid {
                Some(_) => crate::user_sessions().await,
                None => Ok(Vec::new()),
            }
        },
    );
    view! {
        <Show when=move || auth.is_signed_in()>
            <Transition fallback=|| view! { <p class="authkit-sessions-loading">"…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Ok(list) => view! {
                        <table class="authkit-sessions">
                            <thead><tr>
                                <th>"Started"</th><th>"How"</th><th>"Address"</th><th>"Browser"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr data-session=s.id.clone() class:current=s.current>
                                        <td>{s.created_at}</td>
                                        <td>{s.auth_method.unwrap_or_default()}</td>
                                        <td>{s.ip_address.unwrap_or_default()}</td>
                                        <td>{s.user_agent.unwrap_or_default()}</td>
                                        <td>{if s.current { "this browser" } else { "" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(_) => view! { <p class="authkit-sessions-unavailable">"Your sessions are unavailable right now."</p> }.into_any(),
                })}
            </Transition>
        </Show>
    }
}

/// Lists the organizations the user belongs to and switches between them (as
/// authkit-nextjs's `switchToOrganization`): a form with a `<select>` posting to the
/// `/api/authkit/switch-organization` server function (works without JavaScript); the
/// provider then re-reads the
/// session, so flags, roles and gates update without a reload. The list is loaded in the
/// browser after hydration (a page render never waits on WorkOS for it). When WorkOS
/// asks the user to authenticate again for an organization (`sso_required`,
/// `mfa_enrollment`), the browser is sent through AuthKit into it. Renders nothing when
/// signed out.
#[component]
pub fn OrganizationSwitcher() -> impl IntoView {
    let auth = use_auth();
    let session = Memo::new(move |_| auth.with(|s| s.session_id.clone()));
    // Loaded in the browser only: rendering a page never costs a WorkOS call for it.
    let organizations = LocalResource::new(move || {
        let signed_in = session.get().is_some();
        async move {
            if signed_in {
                list_organizations().await
            } else {
                Ok(Vec::new())
            }
        }
    });
    let switch = ServerAction::<SwitchOrganization>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = switch.value().get() {
            auth.refresh();
        }
    });
    view! {
        <Show when=move || auth.is_signed_in()>
            <ActionForm action=switch attr:class="authkit-organization-switcher">
                <label>
                    <span class="authkit-label">"Organization"</span>
                    // Read synchronously (no `.await`): the switcher can be unmounted while
                    // the list is loading (a sign-out noticed on focus) without a pending
                    // future touching the disposed resource.
                    {move || {
                        let current = auth.organization_id();
                        match organizations.get() {
                            None => view! { <select disabled=true><option>"…"</option></select> }.into_any(),
                            Some(Ok(list)) => view! {
                                <select name="organization_id">
                                    {list
                                        .into_iter()
                                        .map(|o| {
                                            let selected = current.as_deref() == Some(o.id.as_str());
                                            view! { <option value=o.id selected=selected>{o.name}</option> }
                                        })
                                        .collect_view()}
                                </select>
                            }
                            .into_any(),
                            Some(Err(_)) => view! { <select disabled=true><option>"unavailable"</option></select> }.into_any(),
                        }
                    }}
                </label>
                <button type="submit">"Switch"</button>
            </ActionForm>
        </Show>
    }
}

/// The impersonation banner, as authkit-nextjs's `Impersonation` component: shown while an
/// admin impersonates the user ("You are impersonating ada@example.com within Acme"), with
/// a Stop button that signs out (ending the impersonation session).
#[component]
pub fn Impersonation() -> impl IntoView {
    let auth = use_auth();
    let organization =
        Memo::new(move |_| auth.with(|s| s.impersonator.as_ref().and(s.organization_id.clone())));
    let name = Resource::new(
        move || organization.get(),
        |org| async move {
            match org {
                Some(org) => organization_name(org).await.ok().flatten(),
                None => None,
            }
        },
    );
    view! {
        <Show when=move || auth.impersonator().is_some()>
            <div class="authkit-impersonation" role="status">
                <p>
                    "You are impersonating "
                    <strong>{move || auth.user().map(|u| u.email)}</strong>
                    <Transition fallback=|| ()>
                        {move || {
                            name.get().flatten().map(|name| view! { " within " <strong>{name}</strong> })
                        }}
                    </Transition>
                </p>
                <SignOutButton>"Stop"</SignOutButton>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::start_href;

    #[test]
    fn start_links_encode_every_value() {
        assert_eq!(
            start_href("/auth/sign-in", "/a?b=c&d", Some("org_1"), Some("a+b@example.com")),
            "/auth/sign-in?return_to=%2Fa%3Fb%3Dc%26d&organization_id=org_1&login_hint=a%2Bb%40example.com"
        );
        assert_eq!(
            start_href("/auth/sign-up", "/", None, None),
            "/auth/sign-up?return_to=%2F"
        );
    }
}
