//! WorkOS events (`GET /events`), the Sessions API, signed webhooks and the directory
//! controls (a member's role, a removed membership, an edited or deleted user, a revoked
//! session) — from Rust and over `/__emulator/`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use workos_emulator::{
    ControlError, Emulator, EmulatorError, Endpoint, Fault, Seed, UserUpdate, WebhookStats,
};

use crate::support::*;

/// `GET {path}` with the API key: (status, JSON).
async fn api_get(emu: &Emulator, path: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}{path}", emu.base_url()))
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// `POST /__emulator/{path}` with a JSON body: (status, JSON).
async fn control(emu: &Emulator, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/__emulator/{path}", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Signs `login_hint` in (auto-approve) and exchanges the code as an app that passes the
/// browser's address and user agent on: the authenticate response.
async fn sign_in_from(emu: &Emulator, login_hint: &str, ip: &str, user_agent: &str) -> Value {
    let (verifier, challenge) = pkce();
    let r = authorize(emu, &challenge, &[("login_hint", login_hint)]).await;
    assert_eq!(r.status(), 302);
    let code = location_query(&r)["code"].clone();
    let r = authenticate(
        emu,
        json!({
            "grant_type": "authorization_code",
            "client_id": emu.client_id(),
            "client_secret": emu.api_key(),
            "code": code,
            "code_verifier": verifier,
            "ip_address": ip,
            "user_agent": user_agent,
        }),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn sid(auth: &Value) -> String {
    claims(auth["access_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn kinds(events: &[workos_emulator::Event]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_iso8601_ms(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn assert_event_shape(event: &Value) {
    let object = event.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["created_at", "data", "event", "id", "object"],
        "{event}"
    );
    assert_eq!(event["object"], "event");
    let id = event["id"].as_str().unwrap();
    assert!(
        id.starts_with("event_01") && id.len() == "event_".len() + 26,
        "{id}"
    );
    assert!(
        is_iso8601_ms(event["created_at"].as_str().unwrap()),
        "{event}"
    );
}

#[tokio::test]
async fn sessions_record_created_and_revoked_events_with_workos_session_objects() {
    let emu = demo().await;
    let ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
    let auth = sign_in_from(&emu, "ada@example.com", "203.0.113.7", ua).await;
    let session_id = sid(&auth);
    let user_id = auth["user"]["id"].as_str().unwrap();

    let (status, list) = api_get(&emu, "/events").await;
    assert_eq!(status, 200);
    assert_eq!(list["object"], "list");
    assert_eq!(
        list["list_metadata"],
        json!({"before": null, "after": null})
    );
    let created = &list["data"][0];
    assert_event_shape(created);
    assert_eq!(created["event"], "session.created");
    let session = &created["data"];
    assert_eq!(session["object"], "session");
    assert_eq!(session["id"], session_id.as_str());
    assert_eq!(session["user_id"], user_id);
    assert_eq!(session["organization_id"], auth["organization_id"]);
    assert_eq!(session["status"], "active");
    assert_eq!(session["auth_method"], "password");
    assert_eq!(session["ip_address"], "203.0.113.7");
    assert_eq!(session["user_agent"], ua);
    assert_eq!(session["ended_at"], Value::Null);
    for field in ["expires_at", "created_at", "updated_at"] {
        assert!(is_iso8601_ms(session[field].as_str().unwrap()), "{field}");
    }
    assert!(session["expires_at"].as_str() > session["created_at"].as_str());
    assert!(session.get("impersonator").is_none());

    // Logout ends it: session.revoked, once (a second logout changes nothing).
    let logout = url(
        emu.base_url(),
        "/user_management/sessions/logout",
        &[("session_id", &session_id)],
    );
    for _ in 0..2 {
        assert_eq!(client().get(&logout).send().await.unwrap().status(), 200);
    }
    let events = emu.events();
    assert_eq!(kinds(&events), ["session.created", "session.revoked"]);
    let revoked = &events[1].data;
    assert_eq!(revoked["id"], session_id.as_str());
    assert_eq!(revoked["status"], "revoked");
    assert!(is_iso8601_ms(revoked["ended_at"].as_str().unwrap()));
    assert_eq!(revoked["updated_at"], revoked["ended_at"]);
    assert_eq!(revoked["ip_address"], "203.0.113.7");
    // What the API lists is what Rust reads.
    let (_, list) = api_get(&emu, "/events").await;
    let listed: Vec<Value> = events.iter().map(|e| e.to_json()).collect();
    assert_eq!(list["data"], json!(listed));

    // The Sessions API's revoke, `end_session` and the HTTP control each record it too.
    let second = sign_in(&emu, &[("login_hint", "alan@example.com")]).await;
    let r = client()
        .post(format!(
            "{}/user_management/sessions/revoke",
            emu.base_url()
        ))
        .bearer_auth(emu.api_key())
        .json(&json!({ "session_id": sid(&second) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Revoked for good: its refresh token is refused, and revoking again records nothing.
    let r = refresh(&emu, second["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 400);
    let r = client()
        .post(format!(
            "{}/user_management/sessions/revoke",
            emu.base_url()
        ))
        .bearer_auth(emu.api_key())
        .json(&json!({ "session_id": sid(&second) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let third = sign_in(&emu, &[("login_hint", "grace@example.com")]).await;
    assert!(emu.end_session(&sid(&third)));
    assert!(!emu.end_session(&sid(&third)));
    let fourth = sign_in(&emu, &[("login_hint", "mary@example.com")]).await;
    let (status, body) = control(
        &emu,
        "sessions/revoke",
        json!({ "session_id": sid(&fourth) }),
    )
    .await;
    assert_eq!((status, &body), (200, &json!({"revoked": true})));
    let (_, body) = control(
        &emu,
        "sessions/revoke",
        json!({ "session_id": sid(&fourth) }),
    )
    .await;
    assert_eq!(body, json!({"revoked": false}));

    let events = emu.events();
    assert_eq!(
        kinds(&events),
        [
            "session.created",
            "session.revoked",
            "session.created",
            "session.revoked",
            "session.created",
            "session.revoked",
            "session.created",
            "session.revoked",
        ]
    );
    // Grace's seeded authentication method is GoogleOAuth: an `oauth` session.
    assert_eq!(events[4].data["auth_method"], "oauth");
    // Without ip_address/user_agent in authenticate, WorkOS has none to report.
    assert_eq!(events[2].data["ip_address"], Value::Null);
    assert_eq!(events[2].data["user_agent"], Value::Null);
    let (_, all) = get_json_plain(&emu, "/__emulator/events").await;
    assert_eq!(all["events"].as_array().unwrap().len(), 8);
}

async fn get_json_plain(emu: &Emulator, path: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}{path}", emu.base_url()))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Five events, a minute apart on the emulator's clock: Ada's, Alan's and Mary's
/// sign-ins (Acme, Acme, Initech), then Ada's and Mary's sign-outs.
async fn five_events(emu: &Emulator) -> Vec<String> {
    let ada = sign_in(emu, &[]).await;
    emu.advance_clock(Duration::from_secs(60));
    sign_in(emu, &[("login_hint", "alan@example.com")]).await;
    emu.advance_clock(Duration::from_secs(60));
    let mary = sign_in(emu, &[("login_hint", "mary@example.com")]).await;
    emu.advance_clock(Duration::from_secs(60));
    emu.end_session(&sid(&ada));
    emu.advance_clock(Duration::from_secs(60));
    emu.end_session(&sid(&mary));
    emu.events().into_iter().map(|e| e.id).collect()
}

#[tokio::test]
async fn events_filter_by_type_organization_and_time() {
    let emu = demo().await;
    let all = five_events(&emu).await;
    assert_eq!(all.len(), 5);
    let (_, list) = api_get(&emu, "/events").await;
    assert_eq!(ids(&list), all, "oldest first when no order is given");

    // Repeated, bracketed and comma-joined (what @workos-inc/node sends) all work.
    for query in [
        "events=session.revoked",
        "events[]=session.revoked",
        "events=session.revoked&events=user.deleted",
        "events=session.revoked%2Cuser.deleted",
        "events[]=user.deleted&events[]=session.revoked",
    ] {
        let (status, list) = api_get(&emu, &format!("/events?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(ids(&list), all[3..], "{query}");
    }
    let (_, list) = api_get(&emu, "/events?events=user.deleted").await;
    assert_eq!(ids(&list), Vec::<String>::new());

    let mary_org = emu.events()[2].data["organization_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, list) = api_get(&emu, &format!("/events?organization_id={mary_org}")).await;
    assert_eq!(ids(&list), [all[2].clone(), all[4].clone()]);

    // range_start is inclusive, range_end exclusive.
    let times: Vec<String> = emu.events().into_iter().map(|e| e.created_at).collect();
    let (_, list) = api_get(&emu, &format!("/events?range_start={}", times[3])).await;
    assert_eq!(ids(&list), all[3..]);
    let (_, list) = api_get(
        &emu,
        &format!("/events?range_start={}&range_end={}", times[1], times[3]),
    )
    .await;
    assert_eq!(ids(&list), all[1..3]);
    let (_, list) = api_get(&emu, &format!("/events?range_end={}", times[1])).await;
    assert_eq!(ids(&list), all[..1]);

    // Bad parameters answer WorkOS's 422, naming the parameter.
    for (query, field) in [
        ("range_start=yesterday", "range_start"),
        ("range_end=2026-02-30T00:00:00Z", "range_end"),
        (
            &format!("range_start={}&after={}", times[0], all[0]) as &str,
            "range_start",
        ),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("order=sideways", "order"),
        ("after=event_01NOPE", "after"),
        ("before=event_01NOPE", "before"),
    ] {
        let (status, body) = api_get(&emu, &format!("/events?{query}")).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["code"], "invalid_request_parameters", "{query}");
        assert!(body["message"].is_string(), "{query}");
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }

    // The API key is required.
    let r = client()
        .get(format!("{}/events", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client()
        .get(format!("{}/events", emu.base_url()))
        .bearer_auth("sk_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn events_page_with_cursors_both_ways_in_every_order() {
    let emu = demo().await;
    let all = five_events(&emu).await;
    let page = |query: String| {
        let emu = &emu;
        async move {
            let (status, list) = api_get(emu, &format!("/events?limit=2&{query}")).await;
            assert_eq!(status, 200, "{query}: {list}");
            let meta = &list["list_metadata"];
            let cursor = |k: &str| meta[k].as_str().map(str::to_owned);
            (ids(&list), cursor("before"), cursor("after"))
        }
    };
    let e = |i: usize| all[i].clone();

    // asc: `after` pages forward to the end, `before` back.
    assert_eq!(
        page("order=asc".into()).await,
        (vec![e(0), e(1)], None, Some(e(1)))
    );
    assert_eq!(
        page(format!("order=asc&after={}", e(1))).await,
        (vec![e(2), e(3)], Some(e(2)), Some(e(3)))
    );
    assert_eq!(
        page(format!("after={}", e(3))).await,
        (vec![e(4)], Some(e(4)), None)
    );
    assert_eq!(page(format!("after={}", e(4))).await, (vec![], None, None));
    assert_eq!(
        page(format!("before={}", e(4))).await,
        (vec![e(2), e(3)], Some(e(2)), Some(e(3)))
    );
    assert_eq!(
        page(format!("before={}", e(2))).await,
        (vec![e(0), e(1)], None, Some(e(1)))
    );

    // desc: newest first, `after` pages on to older ones.
    assert_eq!(
        page("order=desc".into()).await,
        (vec![e(4), e(3)], None, Some(e(3)))
    );
    assert_eq!(
        page(format!("order=desc&after={}", e(3))).await,
        (vec![e(2), e(1)], Some(e(2)), Some(e(1)))
    );
    assert_eq!(
        page(format!("order=desc&after={}", e(1))).await,
        (vec![e(0)], Some(e(0)), None)
    );
    assert_eq!(
        page(format!("order=desc&before={}", e(0))).await,
        (vec![e(2), e(1)], Some(e(2)), Some(e(1)))
    );

    // normal: newest first, `before` fetches older ones and `after` newer ones.
    assert_eq!(
        page("order=normal".into()).await,
        (vec![e(4), e(3)], Some(e(3)), None)
    );
    assert_eq!(
        page(format!("order=normal&before={}", e(3))).await,
        (vec![e(2), e(1)], Some(e(1)), Some(e(2)))
    );
    assert_eq!(
        page(format!("order=normal&after={}", e(1))).await,
        (vec![e(3), e(2)], Some(e(2)), Some(e(3)))
    );

    // A poller's loop: follow `after` until it is null, and see every event once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor.map_or_else(String::new, |c| format!("after={c}"));
        let (ids, _, after) = page(query).await;
        seen.extend(ids);
        match after {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, all);

    // A cursor names any event, whatever the filter: the last revocation seen, then the
    // sign-ins after it (none) — and a filter's page starts after an unfiltered cursor.
    let (_, list) = api_get(
        &emu,
        &format!("/events?events=session.created&after={}", e(1)),
    )
    .await;
    assert_eq!(ids(&list), [e(2)]);
}

#[tokio::test]
async fn events_are_kept_30_days() {
    let emu = demo().await;
    sign_in(&emu, &[]).await;
    let old = emu.events()[0].id.clone();
    emu.advance_clock(Duration::from_secs(29 * 24 * 3600));
    let (_, list) = api_get(&emu, &format!("/events?after={old}")).await;
    assert_eq!(list["data"], json!([]));
    emu.advance_clock(Duration::from_secs(2 * 24 * 3600));
    let (_, list) = api_get(&emu, "/events").await;
    assert_eq!(list["data"], json!([]));
    // Its id is no cursor any more: the poller learns it must start over.
    let (status, body) = api_get(&emu, &format!("/events?after={old}")).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn the_sessions_api_lists_a_users_active_sessions() {
    let emu = demo().await;
    let first = sign_in_from(&emu, "ada@example.com", "198.51.100.1", "Safari").await;
    emu.advance_clock(Duration::from_secs(5));
    let second = sign_in_from(&emu, "ada@example.com", "198.51.100.2", "Chrome").await;
    emu.advance_clock(Duration::from_secs(5));
    let third = sign_in(&emu, &[]).await;
    sign_in(&emu, &[("login_hint", "alan@example.com")]).await;
    let user_id = first["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/user_management/users/{user_id}/sessions");
    let (s1, s2, s3) = (sid(&first), sid(&second), sid(&third));

    // Newest first by default, Ada's only, in WorkOS's session shape.
    let (status, list) = api_get(&emu, &path).await;
    assert_eq!(status, 200);
    assert_eq!(list["object"], "list");
    assert_eq!(ids(&list), [s3.clone(), s2.clone(), s1.clone()]);
    assert_eq!(
        list["list_metadata"],
        json!({"before": null, "after": null})
    );
    let oldest = &list["data"][2];
    let mut keys: Vec<&str> = oldest
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "auth_method",
            "created_at",
            "ended_at",
            "expires_at",
            "id",
            "ip_address",
            "object",
            "organization_id",
            "status",
            "updated_at",
            "user_agent",
            "user_id",
        ]
    );
    assert_eq!(oldest["ip_address"], "198.51.100.1");
    assert_eq!(oldest["user_agent"], "Safari");
    assert_eq!(oldest["status"], "active");
    // The same object the session.created event carried.
    assert_eq!(oldest, &emu.events()[0].data);

    // Pages and orders as the other lists do.
    let (_, page) = api_get(&emu, &format!("{path}?limit=1")).await;
    assert_eq!(ids(&page), [s3.as_str()]);
    assert_eq!(page["list_metadata"]["after"], s3.as_str());
    let (_, page) = api_get(&emu, &format!("{path}?limit=1&after={s3}")).await;
    assert_eq!(ids(&page), [s2.as_str()]);
    let (_, page) = api_get(&emu, &format!("{path}?limit=1&before={s1}")).await;
    assert_eq!(ids(&page), [s2.as_str()]);
    let (_, page) = api_get(&emu, &format!("{path}?order=asc")).await;
    assert_eq!(ids(&page), [s1.clone(), s2.clone(), s3.clone()]);
    let (status, body) = api_get(&emu, &format!("{path}?after=session_nope")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_request_parameters"))
    );

    // Revoked sessions leave the list; a cursor naming one still works.
    let r = client()
        .post(format!(
            "{}/user_management/sessions/revoke",
            emu.base_url()
        ))
        .bearer_auth(emu.api_key())
        .json(&json!({ "session_id": s2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, list) = api_get(&emu, &path).await;
    assert_eq!(ids(&list), [s3.clone(), s1.clone()]);
    let (_, list) = api_get(&emu, &format!("{path}?after={s2}")).await;
    assert_eq!(ids(&list), [s1.as_str()]);

    // Errors: an unknown user, an unknown session to revoke, no API key.
    let (status, body) = api_get(&emu, "/user_management/users/user_nope/sessions").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("entity_not_found"))
    );
    let r = client()
        .post(format!(
            "{}/user_management/sessions/revoke",
            emu.base_url()
        ))
        .bearer_auth(emu.api_key())
        .json(&json!({ "session_id": "session_nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .get(format!("{}{path}", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Thirty days after sign-in a session expires: off the list, and no refresh.
    emu.advance_clock(Duration::from_secs(30 * 24 * 3600));
    let (_, list) = api_get(&emu, &path).await;
    assert_eq!(ids(&list), Vec::<String>::new());
    let r = refresh(&emu, third["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 400);
    assert_eq!(emu.active_sessions(), 0);
}

#[tokio::test]
async fn a_changed_role_shows_on_the_next_refresh() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let before = claims(auth["access_token"].as_str().unwrap());
    assert_eq!(before["role"], "admin");
    assert!(before["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("members:manage")));

    emu.set_member_role("ada@example.com", "Acme", "member")
        .unwrap();
    let events = emu.events();
    let updated = events.last().unwrap();
    assert_eq!(updated.event, "organization_membership.updated");
    // The membership exactly as the memberships list serves it.
    let user_id = auth["user"]["id"].as_str().unwrap();
    let org_id = auth["organization_id"].as_str().unwrap();
    let (_, memberships) = api_get(
        &emu,
        &format!(
            "/user_management/organization_memberships?user_id={user_id}&organization_id={org_id}"
        ),
    )
    .await;
    assert_eq!(memberships["data"][0], updated.data);
    assert_eq!(updated.data["role"], json!({"slug": "member"}));
    assert_eq!(updated.data["roles"], json!([{"slug": "member"}]));
    assert!(updated.data["updated_at"].as_str() >= updated.data["created_at"].as_str());

    let r = refresh(&emu, auth["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 200);
    let after: Value = r.json().await.unwrap();
    let after = claims(after["access_token"].as_str().unwrap());
    assert_eq!(after["role"], "member");
    assert_eq!(after["roles"], json!(["member"]));
    assert!(!after["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("members:manage")));

    // Over HTTP, by ids this time.
    let (status, body) = control(
        &emu,
        "memberships/role",
        json!({"user": user_id, "organization": org_id, "role": "admin"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["membership"]["role"]["slug"], "admin");
    assert_eq!(emu.events().last().unwrap().data, body["membership"]);
}

#[tokio::test]
async fn a_removed_membership_cannot_refresh_in_its_organization() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let token = auth["refresh_token"].as_str().unwrap();
    let user_id = auth["user"]["id"].as_str().unwrap();
    let globex = org_id_by_name(&emu, user_id, "Globex").await;

    emu.remove_membership("ada@example.com", "acme").unwrap();
    let removed = emu.events().pop().unwrap();
    assert_eq!(removed.event, "organization_membership.deleted");
    assert_eq!(removed.data["organization_id"], auth["organization_id"]);
    assert_eq!(removed.data["user_id"], user_id);
    assert_eq!(removed.data["object"], "organization_membership");
    // Gone from the memberships list.
    assert_eq!(
        emu.remove_membership("ada@example.com", "Acme"),
        Err(ControlError::NotAMember {
            user: "ada@example.com".into(),
            organization: "Acme".into()
        })
    );

    // Refreshing in Acme is refused, without using the token up…
    let r = refresh(&emu, token, None).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    // …so the same token can still switch into an organization Ada is in.
    let r = refresh(&emu, token, Some(&globex)).await;
    assert_eq!(r.status(), 200);

    // Over HTTP.
    let (status, body) = control(
        &emu,
        "memberships/remove",
        json!({"user": "ada@example.com", "organization": "Globex"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["membership"]["organization_id"], globex.as_str());
}

#[tokio::test]
async fn a_deleted_user_loses_every_session() {
    let emu = demo().await;
    let one = sign_in(&emu, &[("login_hint", "alan@example.com")]).await;
    let two = sign_in(&emu, &[("login_hint", "alan@example.com")]).await;
    emu.end_session(&sid(&one));
    let three = sign_in(&emu, &[("login_hint", "alan@example.com")]).await;
    let user_id = one["user"]["id"].as_str().unwrap().to_owned();
    let (_, user) = api_get(&emu, &format!("/user_management/users/{user_id}")).await;
    let before = emu.events().len();

    assert_eq!(emu.delete_user("alan@example.com"), Ok(2));
    let events = emu.events();
    let new = &events[before..];
    assert_eq!(
        kinds(new),
        [
            "session.revoked",
            "session.revoked",
            "organization_membership.deleted",
            "user.deleted"
        ]
    );
    assert_eq!(new[0].data["id"], sid(&two).as_str());
    assert_eq!(new[1].data["id"], sid(&three).as_str());
    assert_eq!(new[3].data, user);
    for auth in [&two, &three] {
        let r = refresh(&emu, auth["refresh_token"].as_str().unwrap(), None).await;
        assert_eq!(r.status(), 400);
    }
    let (status, _) = api_get(&emu, &format!("/user_management/users/{user_id}")).await;
    assert_eq!(status, 404);
    assert_eq!(
        emu.delete_user(&user_id),
        Err(ControlError::UnknownUser(user_id.clone()))
    );

    // Over HTTP.
    sign_in(&emu, &[("login_hint", "mary@example.com")]).await;
    let (status, body) = control(&emu, "users/delete", json!({"user": "mary@example.com"})).await;
    assert_eq!((status, body), (200, json!({"sessions_revoked": 1})));
    let (status, _) = control(&emu, "users/delete", json!({"user": "mary@example.com"})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_updated_user_records_user_updated() {
    let emu = demo().await;
    emu.update_user(
        "ada@example.com",
        UserUpdate::new()
            .first_name("Augusta")
            .email_verified(false),
    )
    .unwrap();
    let event = emu.events().pop().unwrap();
    assert_eq!(event.event, "user.updated");
    let user_id = event.data["id"].as_str().unwrap();
    let (_, user) = api_get(&emu, &format!("/user_management/users/{user_id}")).await;
    assert_eq!(event.data, user);
    assert_eq!(user["first_name"], "Augusta");
    assert_eq!(user["name"], "Augusta Lovelace");
    assert_eq!(user["email_verified"], false);

    let (status, body) = control(
        &emu,
        "users/update",
        json!({"user": user_id, "last_name": "King", "metadata": {"team": "poetry"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["name"], "Augusta King");
    assert_eq!(body["user"]["metadata"], json!({"team": "poetry"}));
    assert_eq!(emu.events().pop().unwrap().data, body["user"]);

    // Refused: a taken email, an unknown user, an unknown field.
    assert!(matches!(
        emu.update_user(
            "ada@example.com",
            UserUpdate::new().email("alan@example.com")
        ),
        Err(ControlError::Invalid(_))
    ));
    let (status, _) = control(
        &emu,
        "users/update",
        json!({"user": "nobody@example.com", "first_name": "X"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = control(
        &emu,
        "users/update",
        json!({"user": "ada@example.com", "password": "x"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn controls_explain_what_they_cannot_do() {
    let emu = demo().await;
    assert_eq!(
        emu.set_member_role("nobody@example.com", "Acme", "admin"),
        Err(ControlError::UnknownUser("nobody@example.com".into()))
    );
    assert_eq!(
        emu.set_member_role("ada@example.com", "Hooli", "admin"),
        Err(ControlError::UnknownOrganization("Hooli".into()))
    );
    assert!(matches!(
        emu.set_member_role("alan@example.com", "Globex", "admin"),
        Err(ControlError::NotAMember { .. })
    ));
    assert!(matches!(
        emu.set_member_role("ada@example.com", "Acme", " "),
        Err(ControlError::Invalid(_))
    ));
    assert!(emu.events().is_empty(), "a refused control records nothing");
    for (path, body, status) in [
        (
            "memberships/role",
            json!({"user": "ada@example.com", "organization": "Hooli", "role": "x"}),
            404,
        ),
        (
            "memberships/role",
            json!({"user": "ada@example.com", "organization": "Acme"}),
            400,
        ),
        (
            "memberships/remove",
            json!({"user": "alan@example.com", "organization": "Globex"}),
            404,
        ),
        ("users/delete", json!({}), 400),
        ("users/update", json!({"first_name": "X"}), 400),
        ("sessions/revoke", json!({"session": "x"}), 400),
    ] {
        let (got, reply) = control(&emu, path, body.clone()).await;
        assert_eq!(got, status, "{path} {body}: {reply}");
        assert!(reply["message"].is_string(), "{path}: {reply}");
    }
    // Garbage never gets a 500 from the new endpoints either.
    for path in [
        "memberships/role",
        "memberships/remove",
        "users/update",
        "users/delete",
        "sessions/revoke",
    ] {
        for body in [&b""[..], b"{", b"null", b"\xff", b"[]"] {
            let r = client()
                .post(format!("{}/__emulator/{path}", emu.base_url()))
                .header("content-type", "application/json")
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{path} {body:?}");
        }
    }
    for query in ["%", "events=%ff", "limit=%E2%82", "a&&&=&="] {
        for path in ["/events", "/user_management/users/user_x/sessions"] {
            let r = client()
                .get(format!("{}{path}?{query}", emu.base_url()))
                .bearer_auth(emu.api_key())
                .send()
                .await
                .unwrap();
            assert!(r.status().as_u16() < 500, "{path}?{query}: {}", r.status());
        }
    }
}

#[tokio::test]
async fn the_new_endpoints_are_counted_and_faultable() {
    let emu = demo().await;
    emu.inject_fault(Endpoint::ListEvents, Fault::status(503).retry_after(1));
    let (status, _) = api_get(&emu, "/events").await;
    assert_eq!(status, 503);
    let (status, _) = api_get(&emu, "/events").await;
    assert_eq!(status, 200);
    let (status, _) = api_get(&emu, "/user_management/users/user_x/sessions").await;
    assert_eq!(status, 404);
    let counters = emu.counters();
    assert_eq!(counters.get(Endpoint::ListEvents), 2);
    assert_eq!(counters.get(Endpoint::ListSessions), 1);
    assert_eq!(counters.to_json()["list_events"], 2);
}

// ---- Webhooks ----

/// One delivery as the receiving endpoint saw it.
#[derive(Debug, Clone)]
struct Delivery {
    body: Bytes,
    signature: String,
    content_type: String,
}

/// A webhook endpoint on loopback that records every delivery and answers with the
/// scripted statuses (then 200), optionally after a delay.
struct Receiver {
    url: String,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(statuses: Vec<u16>, delay: Duration) -> Self {
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(statuses)));
        let seen = Arc::clone(&deliveries);
        let app = axum::Router::new().route(
            "/webhooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let seen = Arc::clone(&seen);
                let script = Arc::clone(&script);
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    seen.lock().unwrap().push(Delivery {
                        body,
                        signature: header("workos-signature"),
                        content_type: header("content-type"),
                    });
                    tokio::time::sleep(delay).await;
                    let status = script.lock().unwrap().pop_front().unwrap_or(200);
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url,
            deliveries,
            _task: task,
        }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }
}

async fn with_webhook(url: &str, secret: &str) -> Emulator {
    Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .webhook(url, secret)
        .start()
        .await
        .unwrap()
}

/// Checks `header` the way a receiver must, computing the HMAC here: `(t, v1)`.
fn verify(header: &str, body: &[u8], secret: &str) -> (u128, bool) {
    let (t, v1) = header.split_once(", ").expect("t=…, v1=…");
    let t = t.strip_prefix("t=").expect("t=");
    let v1 = v1.strip_prefix("v1=").expect("v1=");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let tag = aws_lc_rs::hmac::sign(&key, &signed);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    (t.parse().unwrap(), hex == v1)
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[tokio::test]
async fn webhooks_deliver_every_event_signed_and_in_order() {
    let receiver = Receiver::start(Vec::new(), Duration::ZERO).await;
    let secret = "whsec_emulator_test";
    let emu = with_webhook(&receiver.url, secret).await;
    assert_eq!(emu.webhook_secret(), Some(secret));

    let ada = sign_in(&emu, &[]).await;
    refresh(&emu, ada["refresh_token"].as_str().unwrap(), None).await;
    emu.set_member_role("ada@example.com", "Acme", "member")
        .unwrap();
    emu.end_session(&sid(&ada));
    emu.update_user("alan@example.com", UserUpdate::new().first_name("Alan M."))
        .unwrap();
    emu.remove_membership("alan@example.com", "Acme").unwrap();
    emu.delete_user("grace@example.com").unwrap();
    assert!(emu.wait_for_webhooks(Duration::from_secs(10)).await);

    let events = emu.events();
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), events.len());
    assert_eq!(
        kinds(&events),
        [
            "session.created",
            "organization_membership.updated",
            "session.revoked",
            "user.updated",
            "organization_membership.deleted",
            "organization_membership.deleted",
            "user.deleted",
        ]
    );
    let sent_at = now_ms();
    for (delivery, event) in deliveries.iter().zip(&events) {
        // The body is the event object, exactly as GET /events lists it.
        let body: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(body, event.to_json());
        assert_event_shape(&body);
        assert_eq!(delivery.content_type, "application/json");
        let (t, valid) = verify(&delivery.signature, &delivery.body, secret);
        assert!(valid, "{} does not verify", delivery.signature);
        assert!(sent_at - t < 10_000, "t={t} is the sending time, in ms");
        assert!(!verify(&delivery.signature, &delivery.body, "whsec_other").1);
    }
    let (_, list) = api_get(&emu, "/events").await;
    let bodies: Vec<Value> = deliveries
        .iter()
        .map(|d| serde_json::from_slice(&d.body).unwrap())
        .collect();
    assert_eq!(list["data"], json!(bodies));

    let stats = emu.webhook_stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.attempts, stats.pending),
        (7, 0, 7, 0)
    );
    let (_, http) = get_json_plain(&emu, "/__emulator/webhooks").await;
    assert_eq!(
        http,
        json!({
            "configured": true,
            "url": receiver.url,
            "delivered": 7,
            "failed": 0,
            "attempts": 7,
            "pending": 0,
        })
    );
}

#[tokio::test]
async fn webhooks_retry_in_order_and_give_up_after_five_attempts() {
    // The first event is refused twice: it is retried, and the second waits for it.
    let receiver = Receiver::start(vec![500, 429], Duration::ZERO).await;
    let emu = with_webhook(&receiver.url, "s").await;
    let ada = sign_in(&emu, &[]).await;
    emu.end_session(&sid(&ada));
    assert!(emu.wait_for_webhooks(Duration::from_secs(10)).await);
    let deliveries = receiver.deliveries();
    let types: Vec<String> = deliveries
        .iter()
        .map(|d| {
            let body: Value = serde_json::from_slice(&d.body).unwrap();
            body["event"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "session.created",
            "session.created",
            "session.created",
            "session.revoked"
        ]
    );
    // Each attempt is signed afresh.
    assert!(deliveries
        .iter()
        .all(|d| verify(&d.signature, &d.body, "s").1));
    let stats = emu.webhook_stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.attempts, stats.pending),
        (2, 0, 4, 0)
    );

    // An endpoint that is not there: five attempts over about 7.6 s, then failed.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let emu = with_webhook(&format!("http://{closed}/webhooks"), "s").await;
    sign_in(&emu, &[]).await;
    let started = Instant::now();
    assert!(emu.wait_for_webhooks(Duration::from_secs(20)).await);
    assert!(started.elapsed() >= Duration::from_secs(7), "backs off");
    let stats = emu.webhook_stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.attempts, stats.pending),
        (0, 1, 5, 0)
    );
    let (_, http) = get_json_plain(&emu, "/__emulator/webhooks").await;
    assert_eq!(http["failed"], 1);
}

#[tokio::test]
async fn a_slow_webhook_endpoint_never_slows_the_api() {
    let receiver = Receiver::start(Vec::new(), Duration::from_secs(2)).await;
    let emu = with_webhook(&receiver.url, "s").await;
    let started = Instant::now();
    for _ in 0..3 {
        let auth = sign_in(&emu, &[]).await;
        emu.end_session(&sid(&auth));
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(emu.webhook_stats().pending >= 5);
    assert!(!emu.wait_for_webhooks(Duration::from_millis(100)).await);
}

#[tokio::test]
async fn webhook_settings_are_checked_at_start() {
    for url in ["https://app.test/webhooks", "/webhooks", "not a url"] {
        let err = Emulator::builder()
            .webhook(url, "s")
            .start()
            .await
            .unwrap_err();
        assert!(matches!(err, EmulatorError::Webhook(_)), "{url}: {err}");
    }
    let err = Emulator::builder()
        .webhook("http://127.0.0.1:9/webhooks", " ")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, EmulatorError::EmptyCredential(_)), "{err}");
    // Without a webhook: nothing is delivered, and the control says so.
    let emu = demo().await;
    assert_eq!(emu.webhook_secret(), None);
    sign_in(&emu, &[]).await;
    assert_eq!(emu.webhook_stats(), WebhookStats::default());
    assert!(emu.wait_for_webhooks(Duration::ZERO).await);
    let (_, http) = get_json_plain(&emu, "/__emulator/webhooks").await;
    assert_eq!(http["configured"], false);
    let debug = format!(
        "{:?}",
        Emulator::builder().webhook("http://127.0.0.1:9/", "whsec_hidden")
    );
    assert!(!debug.contains("whsec_hidden"), "{debug}");
}
