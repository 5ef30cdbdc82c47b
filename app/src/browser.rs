//! The browser's own HTTP call for the Data page (`fetch`), to show an access token from
//! `use_access_token` at work.

/// `GET url` with `Authorization: Bearer <bearer>` when given; answers `"<status> <body>"`.
#[cfg(feature = "hydrate")]
pub async fn get(url: &str, bearer: Option<&str>) -> String {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    async fn run(url: &str, bearer: Option<&str>) -> Result<String, wasm_bindgen::JsValue> {
        let headers = web_sys::Headers::new()?;
        if let Some(token) = bearer {
            headers.set("Authorization", &format!("Bearer {token}"))?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method("GET");
        init.set_headers(&headers);
        let request = web_sys::Request::new_with_str_and_init(url, &init)?;
        let response: web_sys::Response =
            JsFuture::from(leptos::prelude::window().fetch_with_request(&request))
                .await?
                .dyn_into()?;
        let body = JsFuture::from(response.text()?).await?;
        Ok(format!(
            "{} {}",
            response.status(),
            body.as_string().unwrap_or_default()
        ))
    }
    run(url, bearer)
        .await
        .unwrap_or_else(|e| format!("request failed: {e:?}"))
}

/// On the server the page never calls it (only a click in the browser does).
#[cfg(not(feature = "hydrate"))]
pub async fn get(url: &str, bearer: Option<&str>) -> String {
    let _ = (url, bearer);
    String::new()
}
