//! `OrganizationSwitcher`'s list (`/api/authkit/organizations`) when WorkOS's membership
//! list carries no organization names (#26 item 6): the names are fetched once each
//! (`GET /organizations/{id}`) and remembered with the other lookups, never shown as ids.

use crate::support::leptos_app::leptos;
use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Seed};

#[tokio::test]
async fn the_switcher_shows_names_when_memberships_carry_none() {
    let h = leptos(Options {
        seed: || {
            Seed::demo()
                .expect("the demo seed parses")
                .without_membership_organization_names()
        },
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    h.emulator.reset_counters();
    let (status, json, _) = h.call("authkit/organizations", "", Some(&cookie)).await;
    assert_eq!(status, http::StatusCode::OK, "{json}");
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme", "Globex", "Umbrella"], "{json}");
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| id.starts_with("org_")), "{json}");
    let counters = h.emulator.counters();
    assert_eq!(counters.get(Endpoint::ListOrganizationMemberships), 1);
    assert_eq!(
        counters.get(Endpoint::GetOrganization),
        3,
        "one per organization"
    );

    // Asked again: every answer is remembered, WorkOS is not called.
    for _ in 0..3 {
        let (_, again, _) = h.call("authkit/organizations", "", Some(&cookie)).await;
        assert_eq!(again, json);
    }
    let counters = h.emulator.counters();
    assert_eq!(counters.get(Endpoint::ListOrganizationMemberships), 1);
    assert_eq!(counters.get(Endpoint::GetOrganization), 3);
}
