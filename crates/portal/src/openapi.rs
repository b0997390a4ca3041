//! The OpenAPI 3.1 document of the portal's HTTP API, generated from the routes themselves.
//!
//! Every JSON endpoint is declared once, as an [`Op`]: the handler, its method, a summary,
//! the Rust types of its request body, query and success answer, and the error codes it
//! can answer. [`ApiRoutes::route`] builds the axum route *and* records the operation from
//! that one declaration, so the document cannot drift from the router: a path or a method
//! exists in the document exactly when the router serves it, and the JSON Schemas are
//! derived (with `schemars`) from the same `serde` types the handlers deserialize.
//!
//! The document is served at `GET /auth/api/openapi.json`; [`crate::openapi_document`]
//! returns it without a server (`portcullis openapi` prints it).
//!
//! Conventions of the document:
//! * Answers use py4web's envelope: `status` (`"success"`/`"error"`), `message`, and on
//!   errors `code` and per-field `errors`. A success answer's schema is the envelope plus
//!   the operation's own fields (`allOf`).
//! * Operations that need a logged-in user list the `session` security scheme (the
//!   session cookie); admin operations additionally need the `admin` permission, said in
//!   their description and answered with 403 otherwise.
//! * Path parameters named `id` or ending in `_id` are integers; others are strings.

use axum::Router;
use axum::handler::Handler;
use axum::routing::MethodRouter;
use http::Method;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

/// A function that writes the schema of one type into a generator (and answers a
/// reference to it).
type SchemaFn = fn(&mut SchemaGenerator) -> Value;

/// A referenced type: its schema and, to refuse two types under one name, its name and
/// its unique id.
#[derive(Debug, Clone, Copy)]
struct TypeSchema {
    generate: SchemaFn,
    name: fn() -> std::borrow::Cow<'static, str>,
    id: fn() -> std::borrow::Cow<'static, str>,
}

impl TypeSchema {
    fn of<T: JsonSchema>() -> TypeSchema {
        TypeSchema {
            generate: schema_of::<T>,
            name: T::schema_name,
            id: T::schema_id,
        }
    }
}

/// The names under which types were put into `components/schemas`.
#[derive(Default)]
struct Names(std::collections::HashMap<String, String>);

impl Names {
    /// The schema of `t` (a reference).
    ///
    /// # Panics
    ///
    /// When another type already took `t`'s name: the document would silently show one
    /// type's schema for the other (a programming error, caught by every test that builds
    /// the router).
    fn schema(&mut self, t: TypeSchema, generator: &mut SchemaGenerator) -> Value {
        let (name, id) = ((t.name)().into_owned(), (t.id)().into_owned());
        if let Some(previous) = self.0.insert(name.clone(), id.clone()) {
            assert!(
                previous == id,
                "two types are named `{name}` in the OpenAPI document ({previous} and {id}): rename one"
            );
        }
        (t.generate)(generator)
    }
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

fn root_schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.root_schema_for::<T>().to_value()
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone.
    Public,
    /// A logged-in user (the session cookie).
    User,
    /// A logged-in user holding the `admin` permission.
    Admin,
}

/// One documented operation: a method on a path, with its handler.
pub(crate) struct Op<S> {
    method: Method,
    handler: MethodRouter<S>,
    doc: OpDoc,
}

/// What the document says about one operation.
#[derive(Debug, Clone)]
pub(crate) struct OpDoc {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    summary: &'static str,
    description: &'static str,
    tag: &'static str,
    access: Access,
    body: Option<TypeSchema>,
    body_required: bool,
    form: bool,
    query: Option<SchemaFn>,
    answer: Option<TypeSchema>,
    errors: &'static [u16],
}

macro_rules! constructor {
    ($name:ident, $method:ident, $routing:ident) => {
        #[doc = concat!("A `", stringify!($method), "` operation served by `handler`.")]
        pub(crate) fn $name<H, T>(handler: H, summary: &'static str) -> Op<S>
        where
            H: Handler<T, S>,
            T: 'static,
        {
            Op::new(Method::$method, axum::routing::$routing(handler), summary)
        }
    };
}

impl<S: Clone + Send + Sync + 'static> Op<S> {
    fn new(method: Method, handler: MethodRouter<S>, summary: &'static str) -> Op<S> {
        Op {
            doc: OpDoc {
                method: method.clone(),
                path: "",
                summary,
                description: "",
                tag: "auth",
                access: Access::Public,
                body: None,
                body_required: true,
                form: false,
                query: None,
                answer: None,
                errors: &[],
            },
            method,
            handler,
        }
    }

    constructor!(get, GET, get);
    constructor!(post, POST, post);
    constructor!(put, PUT, put);
    constructor!(delete, DELETE, delete);

    /// A longer description (Markdown).
    pub(crate) fn describe(mut self, text: &'static str) -> Op<S> {
        self.doc.description = text;
        self
    }

    /// The tag grouping the operation (`auth` by default).
    pub(crate) fn tag(mut self, tag: &'static str) -> Op<S> {
        self.doc.tag = tag;
        self
    }

    /// Who may call it.
    pub(crate) fn access(mut self, access: Access) -> Op<S> {
        self.doc.access = access;
        self
    }

    /// The JSON request body is a `T`.
    pub(crate) fn body<T: JsonSchema>(mut self) -> Op<S> {
        self.doc.body = Some(TypeSchema::of::<T>());
        self
    }

    /// Like [`Op::body`], but the body may be left out.
    pub(crate) fn optional_body<T: JsonSchema>(mut self) -> Op<S> {
        self.doc.body = Some(TypeSchema::of::<T>());
        self.doc.body_required = false;
        self
    }

    /// The body may also be an urlencoded form of the same fields plus `csrf_token`.
    pub(crate) fn also_form(mut self) -> Op<S> {
        self.doc.form = true;
        self
    }

    /// The query string holds the fields of `T`.
    pub(crate) fn query<T: JsonSchema>(mut self) -> Op<S> {
        self.doc.query = Some(root_schema_of::<T>);
        self
    }

    /// A success answer carries the fields of `T` beside the envelope's.
    pub(crate) fn answers<T: JsonSchema>(mut self) -> Op<S> {
        self.doc.answer = Some(TypeSchema::of::<T>());
        self
    }

    /// The error statuses it can answer (besides those every operation can: 413, 415 for
    /// bodies, 429 for throttled ones are listed explicitly where they apply).
    pub(crate) fn errors(mut self, codes: &'static [u16]) -> Op<S> {
        self.doc.errors = codes;
        self
    }
}

/// A router whose JSON routes are documented as they are added.
pub(crate) struct ApiRoutes<S> {
    router: Router<S>,
    docs: Vec<OpDoc>,
}

impl<S: Clone + Send + Sync + 'static> ApiRoutes<S> {
    /// No routes.
    pub(crate) fn new() -> ApiRoutes<S> {
        ApiRoutes {
            router: Router::new(),
            docs: Vec::new(),
        }
    }

    /// Serves `ops` (one per method) at `path` and documents them.
    ///
    /// # Panics
    ///
    /// When two operations share a method, or when `path` is already routed: both are
    /// programming errors in a fixed route table, caught by every test that builds the
    /// router.
    pub(crate) fn route(mut self, path: &'static str, ops: Vec<Op<S>>) -> ApiRoutes<S> {
        let mut handler = MethodRouter::new();
        let mut seen: Vec<Method> = Vec::new();
        for mut op in ops {
            assert!(
                !seen.contains(&op.method),
                "{path}: {} declared twice",
                op.method
            );
            seen.push(op.method.clone());
            handler = handler.merge(op.handler);
            op.doc.path = path;
            self.docs.push(op.doc);
        }
        self.router = self.router.route(path, handler);
        self
    }

    /// Adds the routes of `other`.
    pub(crate) fn merge(mut self, other: ApiRoutes<S>) -> ApiRoutes<S> {
        self.router = self.router.merge(other.router);
        self.docs.extend(other.docs);
        self
    }

    /// The router and the operations' documentation.
    pub(crate) fn into_parts(self) -> (Router<S>, Vec<OpDoc>) {
        (self.router, self.docs)
    }
}

fn status_text(code: u16) -> &'static str {
    match code {
        400 => {
            "invalid input: malformed JSON or form, invalid UTF-8, unknown or missing fields, values too long; `errors` names the fields"
        }
        401 => "not logged in, or bad credentials",
        403 => {
            "forbidden: wrong current password, untrusted `Origin`, form without the CSRF token, missing permission"
        }
        404 => "no such object",
        409 => "conflict with existing data",
        413 => "body larger than `max_body_bytes`",
        415 => "the body is neither JSON nor an urlencoded form",
        429 => "throttled; `Retry-After` says when to retry",
        _ => "error",
    }
}

/// Turns a `{name}` path into its parameters.
fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let ty = if name == "id" || name.ends_with("_id") {
                "integer"
            } else {
                "string"
            };
            json!({"name": name, "in": "path", "required": true, "schema": {"type": ty}})
        })
        .collect()
}

/// The query parameters of an object schema: one per property.
fn query_params(root: &Value) -> Vec<Value> {
    let required: Vec<&str> = root
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = root.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, schema)| {
            let mut p = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": schema,
            });
            if let Some(d) = schema.get("description") {
                p["description"] = d.clone();
            }
            p
        })
        .collect()
}

fn envelope_schemas() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "Success".into(),
        json!({
            "type": "object",
            "description": "py4web's success envelope; operations add their own fields",
            "required": ["status", "message"],
            "properties": {
                "status": {"const": "success"},
                "message": {"type": "string"},
            },
        }),
    );
    m.insert(
        "Error".into(),
        json!({
            "type": "object",
            "description": "py4web's error envelope",
            "required": ["status", "message", "code"],
            "properties": {
                "status": {"const": "error"},
                "message": {"type": "string", "description": "what is wrong, for people"},
                "code": {"type": "integer", "description": "the HTTP status"},
                "errors": {
                    "type": "object",
                    "description": "per-field messages",
                    "additionalProperties": {"type": "string"},
                },
            },
        }),
    );
    m
}

/// The OpenAPI 3.1 document of `ops`.
pub(crate) fn document(ops: &[OpDoc], session_cookie: &str) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let mut paths = Map::new();
    let mut names = Names::default();
    for op in ops {
        let mut parameters = path_params(op.path);
        if let Some(q) = op.query {
            parameters.extend(query_params(&q(&mut generator)));
        }
        let success = match op.answer {
            Some(a) => {
                json!({"allOf": [{"$ref": "#/components/schemas/Success"}, names.schema(a, &mut generator)]})
            }
            None => json!({"$ref": "#/components/schemas/Success"}),
        };
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "success", "content": {"application/json": {"schema": success}}}),
        );
        let mut codes: Vec<u16> = op.errors.to_vec();
        if op.body.is_some() {
            codes.extend([400, 413, 415]);
        }
        match op.access {
            Access::Public => {}
            Access::User => codes.push(401),
            Access::Admin => codes.extend([401, 403]),
        }
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            let mut r = json!({
                "description": status_text(code),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            });
            if code == 429 {
                r["headers"] = json!({"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}});
            }
            responses.insert(code.to_string(), r);
        }
        let mut description = op.description.to_owned();
        if op.access == Access::Admin {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str("Needs the `admin` permission (granted to a group).");
        }
        let mut o = json!({
            "operationId": operation_id(op),
            "summary": op.summary,
            "tags": [op.tag],
            "responses": responses,
        });
        if !description.is_empty() {
            o["description"] = Value::String(description);
        }
        if !parameters.is_empty() {
            o["parameters"] = Value::Array(parameters);
        }
        if let Some(b) = op.body {
            let schema = names.schema(b, &mut generator);
            let mut content = json!({"application/json": {"schema": schema}});
            if op.form {
                content["application/x-www-form-urlencoded"] = json!({
                    "schema": {"allOf": [schema, {
                        "type": "object",
                        "properties": {"csrf_token": {"type": "string", "description": "the session's CSRF token (see `config`)"}},
                    }]},
                });
            }
            o["requestBody"] = json!({"required": op.body_required, "content": content});
        }
        if op.access != Access::Public {
            o["security"] = json!([{"session": []}]);
        }
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method.as_str().to_ascii_lowercase()] = o;
    }
    let mut schemas = envelope_schemas();
    schemas.extend(generator.take_definitions(true));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Portcullis portal API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "py4web-style authentication API (`/auth/api/`) and the admin API (`/auth/api/admin/`) of Portcullis. JSON requests need no CSRF token, but a present `Origin` must be trusted; urlencoded form posts must carry the session's `csrf_token`.",
            "license": {"name": "MIT OR Apache-2.0"},
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": session_cookie},
            },
        },
    })
}

fn operation_id(op: &OpDoc) -> String {
    let mut id = op.method.as_str().to_ascii_lowercase();
    for seg in op.path.trim_start_matches("/auth/api/").split('/') {
        let seg = seg.trim_start_matches('{').trim_end_matches('}');
        if seg.is_empty() {
            continue;
        }
        id.push('_');
        id.push_str(seg);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct In {
        /// The name.
        name: String,
        #[serde(default)]
        age: Option<u32>,
    }

    #[derive(serde::Serialize, JsonSchema)]
    struct Out {
        id: i64,
    }

    async fn h() -> &'static str {
        "ok"
    }

    #[test]
    fn one_declaration_gives_route_and_document() {
        let routes: ApiRoutes<()> = ApiRoutes::new().route(
            "/auth/api/things/{id}",
            vec![
                Op::get(h, "read a thing").answers::<Out>(),
                Op::post(h, "change a thing")
                    .body::<In>()
                    .also_form()
                    .access(Access::Admin)
                    .errors(&[404]),
            ],
        );
        let (_, docs) = routes.into_parts();
        let doc = document(&docs, "sid");
        let item = &doc["paths"]["/auth/api/things/{id}"];
        assert_eq!(item["get"]["operationId"], "get_things_id");
        assert_eq!(item["get"]["parameters"][0]["schema"]["type"], "integer");
        let post = &item["post"];
        for code in ["200", "400", "401", "403", "404", "413", "415"] {
            assert!(post["responses"].get(code).is_some(), "{code} missing");
        }
        assert_eq!(post["security"][0]["session"], json!([]));
        let body = &post["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["$ref"], "#/components/schemas/In");
        let in_schema = &doc["components"]["schemas"]["In"];
        assert_eq!(in_schema["additionalProperties"], false);
        assert_eq!(in_schema["required"], json!(["name"]));
        assert!(doc["components"]["schemas"]["Out"].is_object());
    }

    mod other {
        /// Same name as the outer `In`, another type.
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[allow(dead_code)]
        pub(super) struct In {
            pub(super) other: bool,
        }
    }

    #[test]
    #[should_panic(expected = "two types are named `In`")]
    fn two_types_under_one_name_are_caught() {
        let (_, docs) = ApiRoutes::<()>::new()
            .route("/a", vec![Op::post(h, "a").body::<In>()])
            .route("/b", vec![Op::post(h, "b").body::<other::In>()])
            .into_parts();
        let _ = document(&docs, "sid");
    }

    #[test]
    #[should_panic(expected = "declared twice")]
    fn a_method_declared_twice_is_caught() {
        let _ = ApiRoutes::<()>::new().route("/x", vec![Op::get(h, "one"), Op::get(h, "two")]);
    }
}
