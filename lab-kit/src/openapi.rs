//! The admin APIs described as OpenAPI 3.1, from the same table their routers are built from.
//!
//! An admin router is assembled with [`Documented::route`], which takes each path's axum
//! `MethodRouter` together with one [`Op`] per method it answers (summary and the status codes
//! it can answer with). The router and the document therefore come from one list: a route
//! cannot be added without its description, and [`Documented::finish`] serves the document at
//! `GET /openapi.json` inside the same router — behind the same guard as every other admin call,
//! since the guard layer wraps the whole router. The document is built with `utoipa`'s OpenAPI
//! model; path parameters are read from the `{name}` segments axum and OpenAPI share.
//!
//! Tests walk the other way (each service's `tests/it/openapi.rs`): every documented method of
//! every path answers one of its documented statuses to a sample request, and every method a
//! path does not document is refused with 405, so the router holds nothing undocumented.

use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use serde_json::Value;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Required,
    ResponseBuilder, ResponsesBuilder, ServerBuilder,
};

/// One method of one admin path, as documented.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub method: Method,
    pub summary: &'static str,
    /// Every status the call can answer with, success first.
    pub statuses: &'static [u16],
    /// The JSON body it takes, as the JSON Schema of the type the handler parses it into.
    pub body: Option<fn() -> schemars::Schema>,
    /// Behind the admin guard (every call but a health check).
    pub guarded: bool,
}

/// The methods the admin APIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    fn http(self) -> HttpMethod {
        match self {
            Method::Get => HttpMethod::Get,
            Method::Post => HttpMethod::Post,
            Method::Put => HttpMethod::Put,
            Method::Patch => HttpMethod::Patch,
            Method::Delete => HttpMethod::Delete,
        }
    }
}

/// A call without a body: `op(Method::Get, "…", &[200])`.
pub const fn op(method: Method, summary: &'static str, statuses: &'static [u16]) -> Op {
    Op {
        method,
        summary,
        statuses,
        body: None,
        guarded: true,
    }
}

/// A call the guard does not stand in front of (a supervisor's health check).
pub const fn op_public(method: Method, summary: &'static str, statuses: &'static [u16]) -> Op {
    Op {
        method,
        summary,
        statuses,
        body: None,
        guarded: false,
    }
}

/// A call with a JSON body parsed into `T`: `op_body::<Edit>(Method::Patch, "…", &[200, 400])`.
pub const fn op_body<T: schemars::JsonSchema>(
    method: Method,
    summary: &'static str,
    statuses: &'static [u16],
) -> Op {
    Op {
        method,
        summary,
        statuses,
        body: Some(body_schema::<T>),
        guarded: true,
    }
}

/// `T`'s JSON Schema with every subschema inline (no `$ref` into a `$defs` the OpenAPI document
/// does not have); OpenAPI 3.1 takes JSON Schema 2020-12 as it is.
pub fn body_schema<T: schemars::JsonSchema>() -> schemars::Schema {
    let mut s = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>();
    s.remove("$schema");
    s
}

/// A documented route: its path (as axum and OpenAPI write it) and its methods.
#[derive(Debug, Clone)]
pub struct RouteDoc {
    pub path: String,
    pub ops: Vec<Op>,
}

impl RouteDoc {
    /// The routes of a table written as constants (a router that is not axum's).
    pub fn from_table(table: &[(&str, &[Op])]) -> Vec<RouteDoc> {
        table
            .iter()
            .map(|(path, ops)| RouteDoc {
                path: (*path).to_string(),
                ops: ops.to_vec(),
            })
            .collect()
    }
}

/// An admin router under construction, with the description of every route it holds.
pub struct Documented<S> {
    router: Router<S>,
    routes: Vec<RouteDoc>,
}

impl<S: Clone + Send + Sync + 'static> Default for Documented<S> {
    fn default() -> Self {
        Documented {
            router: Router::new(),
            routes: Vec::new(),
        }
    }
}

/// The path of the document inside the admin router.
pub const DOCUMENT_PATH: &str = "/openapi.json";

impl<S: Clone + Send + Sync + 'static> Documented<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `path` answering `methods`, described by `ops` (one per method).
    pub fn route(mut self, path: &str, methods: MethodRouter<S>, ops: &[Op]) -> Self {
        self.router = self.router.route(path, methods);
        self.routes.push(RouteDoc {
            path: path.to_string(),
            ops: ops.to_vec(),
        });
        self
    }

    /// The routes documented so far, `GET /openapi.json` included once [`finish`] ran.
    ///
    /// [`finish`]: Documented::finish
    pub fn routes(&self) -> &[RouteDoc] {
        &self.routes
    }

    /// Adds `GET /openapi.json` and returns the router, its document and its routes.
    pub fn finish(self, title: &str, mount: &str) -> (Router<S>, Value, Vec<RouteDoc>) {
        let (router, routes) = self.with_document(title, mount);
        let doc = document(title, mount, &routes);
        (router, doc, routes)
    }

    /// Adds `GET /openapi.json` and returns the router alone. The document is built on the first
    /// request for it, once per router: building it (every body's JSON Schema) at each start cost
    /// a lab more than its own state.
    pub fn router(self, title: &str, mount: &str) -> Router<S> {
        self.with_document(title, mount).0
    }

    fn with_document(mut self, title: &str, mount: &str) -> (Router<S>, Vec<RouteDoc>) {
        self.routes.push(RouteDoc {
            path: DOCUMENT_PATH.to_string(),
            ops: vec![op(
                Method::Get,
                "This document: the admin API as OpenAPI 3.1",
                &[200],
            )],
        });
        let lazy = std::sync::Arc::new((
            title.to_string(),
            mount.to_string(),
            self.routes.clone(),
            std::sync::OnceLock::<Value>::new(),
        ));
        let router = self.router.route(
            DOCUMENT_PATH,
            get(move || async move {
                let (title, mount, routes, doc) = &*lazy;
                Json(doc.get_or_init(|| document(title, mount, routes)).clone())
            }),
        );
        (router, self.routes)
    }
}

/// The OpenAPI 3.1 document of `routes`, served under `mount` (`/_admin`): utoipa's model,
/// with each request body's JSON Schema put in place.
pub fn document(title: &str, mount: &str, routes: &[RouteDoc]) -> Value {
    let mut doc = serde_json::to_value(skeleton(title, mount, routes)).unwrap_or_default();
    for r in routes {
        for o in &r.ops {
            let Some(schema) = o.body else { continue };
            let pointer = format!(
                "/paths/{}/{}/requestBody/content/application~1json",
                r.path.replace('~', "~0").replace('/', "~1"),
                o.method.as_str().to_ascii_lowercase()
            );
            if let Some(Value::Object(content)) = doc.pointer_mut(&pointer) {
                content.insert("schema".into(), schema().to_value());
            }
        }
    }
    doc
}

fn skeleton(title: &str, mount: &str, routes: &[RouteDoc]) -> OpenApi {
    let mut paths = PathsBuilder::new();
    for r in routes {
        let params: Vec<&str> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for o in &r.ops {
            let mut responses = ResponsesBuilder::new();
            // The guard's two refusals answer every guarded call, this document included.
            let guard: &[u16] = if o.guarded { &[401, 403] } else { &[] };
            for s in o.statuses.iter().chain(guard) {
                let reason = axum::http::StatusCode::from_u16(*s)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("");
                let mut resp = ResponseBuilder::new().description(reason);
                if *s != 204 {
                    resp = resp.content("application/json", ContentBuilder::new().build());
                }
                responses = responses.response(s.to_string(), resp.build());
            }
            let mut operation = OperationBuilder::new()
                .summary(Some(o.summary))
                .responses(responses.build());
            if !o.guarded {
                operation = operation.security(SecurityRequirement::default());
            }
            for p in &params {
                operation = operation.parameter(
                    ParameterBuilder::new()
                        .name(*p)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True),
                );
            }
            if o.body.is_some() {
                operation = operation.request_body(Some(
                    RequestBodyBuilder::new()
                        .content("application/json", ContentBuilder::new().build())
                        .required(Some(Required::True))
                        .build(),
                ));
            }
            paths = paths.path(r.path.clone(), PathItem::new(o.method.http(), operation));
        }
    }
    let components = ComponentsBuilder::new()
        .security_scheme(
            "admin_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(title)
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The lab's admin API. Every call, this document's included, answers loopback clients that send `Authorization: Bearer <admin_token>` only.",
                ))
                .build(),
        )
        .servers(Some(vec![ServerBuilder::new().url(mount).build()]))
        .paths(paths.build())
        .components(Some(components))
        .security(Some(vec![SecurityRequirement::new(
            "admin_token",
            Vec::<String>::new(),
        )]))
        .build()
}

/// The document as checked in under `openapi/`: pretty JSON and a final newline.
pub fn render(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}
