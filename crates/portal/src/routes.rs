//! The portal's router: the REST API (documented in OpenAPI as it is routed), its
//! document at `/auth/api/openapi.json`, and the other parts of the portal.
//!
//! Each part contributes its routes here with one line; JSON routes go through
//! [`ApiRoutes`] so that they appear in the OpenAPI document.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header;
use portcullis_web::session::DEFAULT_COOKIE_NAME;
use serde_json::Value;

use crate::openapi::{self, ApiRoutes, OpDoc};
use crate::state::PortalState;

/// The documented JSON routes of the portal.
fn api_routes() -> ApiRoutes<PortalState> {
    crate::api::routes().merge(crate::admin::routes())
}

/// Path of the served OpenAPI document.
pub const OPENAPI_PATH: &str = "/auth/api/openapi.json";

/// The portal's router: every endpoint of the crate docs, with `state`.
pub fn router(state: PortalState) -> Router {
    let (api, docs) = api_routes().into_parts();
    let doc: Arc<str> = render(&docs).into();
    api.route(
        OPENAPI_PATH,
        get(move || {
            let doc = doc.clone();
            async move { serve_document(doc) }
        }),
    )
    .merge(crate::pages::router())
    .merge(crate::admin::ui_router())
    // Bodies are read with the configured limit by the handlers.
    .layer(DefaultBodyLimit::disable())
    .with_state(state)
}

fn render(docs: &[OpDoc]) -> String {
    let mut doc = openapi::document(docs, DEFAULT_COOKIE_NAME);
    // The document's own path, described by hand (it is not a JSON-envelope operation).
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        paths.insert(
            OPENAPI_PATH.to_owned(),
            serde_json::json!({"get": {
                "operationId": "get_openapi",
                "summary": "This document",
                "tags": ["meta"],
                "responses": {"200": {"description": "the OpenAPI 3.1 document", "content": {"application/json": {}}}},
            }}),
        );
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn serve_document(doc: Arc<str>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        doc.to_string(),
    )
        .into_response()
}

/// The OpenAPI 3.1 document of the portal's REST and admin API, as served at
/// `/auth/api/openapi.json` (without a server: `portcullis openapi` prints it).
pub fn openapi_document() -> Value {
    let (_, docs) = api_routes().into_parts();
    serde_json::from_str(&render(&docs)).unwrap_or(Value::Null)
}
