//! The hosted sign-in pages: plain HTML forms with inline styles, no JavaScript.
//!
//! Every value that comes from the seed or the request is HTML-escaped. The pages post to
//! `/__emulator/sign-in/{request}`, where the request id (random, unguessable, short-lived)
//! is what ties a form to the `authorize` call that opened it.

use std::fmt::Write as _;

/// A user offered on the sign-in page.
#[derive(Debug)]
pub(crate) struct UserChoice {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) name: Option<String>,
    pub(crate) orgs: usize,
    pub(crate) can_impersonate: bool,
}

/// What the sign-in page shows.
#[derive(Debug)]
pub(crate) struct SignInView<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) users: &'a [UserChoice],
    pub(crate) prefill_email: Option<&'a str>,
    pub(crate) organization: Option<&'a str>,
    pub(crate) error: Option<&'a str>,
}

/// An organization offered on the organization choice page.
#[derive(Debug)]
pub(crate) struct OrgChoice {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: String,
}

const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
 background:#f4f5f8;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1c1d21}
main{width:min(440px,calc(100vw - 32px));background:#fff;border-radius:14px;padding:32px;
 box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:#6b6f7b;margin:24px 0 8px}
p.sub{margin:0 0 16px;color:#6b6f7b}
.badge{display:inline-block;font-size:11px;background:#eef0ff;color:#3e45c9;border-radius:999px;
 padding:1px 8px;margin-left:6px;vertical-align:middle}
.error{background:#fdecec;color:#a12020;border-radius:8px;padding:10px 12px;margin:12px 0}
form{margin:0}
label{display:block;font-size:13px;color:#45474f;margin:10px 0 4px}
input,select{width:100%;padding:9px 11px;border:1px solid #d4d6dd;border-radius:8px;font:inherit}
button{font:inherit;cursor:pointer;border-radius:8px;padding:10px 14px;border:1px solid #d4d6dd;background:#fff}
button.primary{width:100%;margin-top:14px;background:#3e45c9;border-color:#3e45c9;color:#fff}
button.pick{display:flex;width:100%;justify-content:space-between;align-items:center;text-align:left;margin:6px 0}
button.pick:hover{border-color:#3e45c9}
button.link{border:0;background:none;color:#6b6f7b;padding:0;text-decoration:underline}
.muted{color:#6b6f7b;font-size:13px}
.row{display:flex;justify-content:space-between;align-items:center;margin-top:20px}
a{color:#3e45c9}
footer{margin-top:24px;font-size:12px;color:#9a9ca5;text-align:center}
";

/// Escapes text for HTML content and (quoted) attribute values: `&`, `<`, `>`, `"`, `'`.
use html_escape::encode_quoted_attribute as escape;

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{} · WorkOS emulator</title><style>{STYLE}</style></head>\
<body><main>{body}<footer>WorkOS emulator — local test data only</footer></main></body></html>",
        escape(title)
    )
}

fn action_url(request_id: &str) -> String {
    format!("/__emulator/sign-in/{}", escape(request_id))
}

fn error_box(error: Option<&str>) -> String {
    error
        .map(|e| format!("<div class=\"error\" role=\"alert\">{}</div>", escape(e)))
        .unwrap_or_default()
}

fn cancel_form(request_id: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"action\" value=\"cancel\">\
<button class=\"link\" type=\"submit\">Cancel</button></form>",
        action_url(request_id)
    )
}

/// The sign-in page: seeded users, email + password, impersonation for admins.
pub(crate) fn sign_in(view: &SignInView<'_>) -> String {
    let action = action_url(view.request_id);
    let mut body = String::new();
    body.push_str("<h1>Sign in</h1>");
    match view.organization {
        Some(org) => {
            let _ = write!(body, "<p class=\"sub\">to {}</p>", escape(org));
        }
        None => body.push_str("<p class=\"sub\">Choose a seeded user or use a password.</p>"),
    }
    body.push_str(&error_box(view.error));

    if !view.users.is_empty() {
        let _ = write!(
            body,
            "<h2>Seeded users</h2><form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"action\" value=\"pick\">"
        );
        for user in view.users {
            let label = user.name.as_deref().unwrap_or(&user.email);
            let admin = if user.can_impersonate {
                "<span class=\"badge\">admin</span>"
            } else {
                ""
            };
            let orgs = match user.orgs {
                0 => "no organization".to_owned(),
                1 => "1 organization".to_owned(),
                n => format!("{n} organizations"),
            };
            let _ = write!(
                body,
                "<button class=\"pick\" type=\"submit\" name=\"user_id\" value=\"{}\">\
<span><strong>{}</strong>{admin}<br><span class=\"muted\">{}</span></span>\
<span class=\"muted\">{orgs}</span></button>",
                escape(&user.id),
                escape(label),
                escape(&user.email),
            );
        }
        body.push_str("</form>");
    }

    let _ = write!(
        body,
        "<h2>Email and password</h2><form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"action\" value=\"password\">\
<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{}\">\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button class=\"primary\" type=\"submit\">Continue</button></form>",
        escape(view.prefill_email.unwrap_or_default())
    );

    let admins: Vec<&UserChoice> = view.users.iter().filter(|u| u.can_impersonate).collect();
    if !admins.is_empty() && view.users.len() > 1 {
        let _ = write!(
            body,
            "<h2>Impersonate a user</h2><form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"action\" value=\"impersonate\">\
<label for=\"admin_id\">Admin</label><select id=\"admin_id\" name=\"admin_id\">"
        );
        for admin in &admins {
            let _ = write!(
                body,
                "<option value=\"{}\">{}</option>",
                escape(&admin.id),
                escape(&admin.email)
            );
        }
        body.push_str(
            "</select><label for=\"target\">User</label><select id=\"target\" name=\"user_id\">",
        );
        for user in view.users {
            let _ = write!(
                body,
                "<option value=\"{}\">{}</option>",
                escape(&user.id),
                escape(&user.email)
            );
        }
        body.push_str(
            "</select><label for=\"reason\">Reason</label>\
<input id=\"reason\" name=\"reason\" placeholder=\"Investigating a support ticket\">\
<button class=\"primary\" type=\"submit\">Impersonate</button></form>",
        );
    }

    let _ = write!(
        body,
        "<div class=\"row\"><a href=\"{action}?screen=sign-up\">Create an account</a>{}</div>",
        cancel_form(view.request_id)
    );
    layout("Sign in", &body)
}

/// The sign-up page.
pub(crate) fn sign_up(
    request_id: &str,
    prefill_email: Option<&str>,
    error: Option<&str>,
) -> String {
    let action = action_url(request_id);
    let body = format!(
        "<h1>Create an account</h1><p class=\"sub\">The new user lives until the emulator stops.</p>{}\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"action\" value=\"sign_up\">\
<label for=\"first_name\">First name</label><input id=\"first_name\" name=\"first_name\" autocomplete=\"given-name\">\
<label for=\"last_name\">Last name</label><input id=\"last_name\" name=\"last_name\" autocomplete=\"family-name\">\
<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required value=\"{}\">\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>\
<button class=\"primary\" type=\"submit\">Sign up</button></form>\
<div class=\"row\"><a href=\"{action}?screen=sign-in\">I already have an account</a>{}</div>",
        error_box(error),
        escape(prefill_email.unwrap_or_default()),
        cancel_form(request_id)
    );
    layout("Sign up", &body)
}

/// The organization choice page.
pub(crate) fn choose_organization(
    request_id: &str,
    user_label: &str,
    orgs: &[OrgChoice],
) -> String {
    let action = action_url(request_id);
    let mut body = format!(
        "<h1>Choose an organization</h1><p class=\"sub\">Signed in as {}</p>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"action\" value=\"organization\">",
        escape(user_label)
    );
    for org in orgs {
        let _ = write!(
            body,
            "<button class=\"pick\" type=\"submit\" name=\"organization_id\" value=\"{}\">\
<strong>{}</strong><span class=\"muted\">{}</span></button>",
            escape(&org.id),
            escape(&org.name),
            escape(&org.role)
        );
    }
    let _ = write!(
        body,
        "</form><div class=\"row\"><span></span>{}</div>",
        cancel_form(request_id)
    );
    layout("Choose an organization", &body)
}

/// A page with a title and a message (errors, signed out).
pub(crate) fn message(title: &str, text: &str) -> String {
    layout(
        title,
        &format!(
            "<h1>{}</h1><p class=\"sub\">{}</p>",
            escape(title),
            escape(text)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_break_out() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
        );
        let page = sign_in(&SignInView {
            request_id: "r1",
            users: &[UserChoice {
                id: "user_1".into(),
                email: "<script>@x.io".into(),
                name: None,
                orgs: 2,
                can_impersonate: false,
            }],
            prefill_email: Some("\"><script>"),
            organization: None,
            error: Some("<b>bad</b>"),
        });
        assert!(!page.contains("<script>"));
        assert!(page.contains("2 organizations"));
        assert!(page.contains("&lt;b&gt;bad&lt;/b&gt;"));
        assert!(!page.contains("Impersonate a user"));
    }
}
