//! What a request asks for: its route (from method and path) and the few body fields
//! the mock honours (model, stream, token limit, n, seed, usage, tools, prompt), read
//! with jiter. Pacing headers are `config.rs`'s job; answering is the wire formats'.

use std::borrow::Cow;

use jiter::JsonValue;

use super::text::count_words;

/// The endpoint a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Completions,
    Chat,
    Responses,
    Anthropic,
    /// Gemini; `stream` is true for `:streamGenerateContent`.
    Gemini {
        model: String,
        stream: bool,
    },
    Tgi,
    OllamaGenerate,
    OllamaChat,
    Models,
    Health,
}

impl Route {
    /// The route for `method` and `path` (query already removed), if any.
    pub fn find(method: &hyper::Method, path: &str) -> Option<Self> {
        let post = method == hyper::Method::POST;
        let get = method == hyper::Method::GET;
        let route = match path {
            "/v1/completions" | "/completions" if post => Self::Completions,
            "/v1/chat/completions" | "/chat/completions" if post => Self::Chat,
            "/v1/responses" | "/responses" if post => Self::Responses,
            "/v1/messages" if post => Self::Anthropic,
            "/generate_stream" if post => Self::Tgi,
            "/api/generate" if post => Self::OllamaGenerate,
            "/api/chat" if post => Self::OllamaChat,
            "/v1/models" | "/models" if get => Self::Models,
            "/health" | "/healthz" if get => Self::Health,
            _ if post => {
                let rest = path
                    .strip_prefix("/v1beta/models/")
                    .or_else(|| path.strip_prefix("/v1/models/"))?;
                let (model, method) = rest.rsplit_once(':')?;
                let stream = match method {
                    "streamGenerateContent" => true,
                    "generateContent" => false,
                    _ => return None,
                };
                if model.is_empty() || model.contains('/') {
                    return None;
                }
                Self::Gemini {
                    model: model.to_owned(),
                    stream,
                }
            }
            _ => return None,
        };
        Some(route)
    }
}

/// The body fields the mock honours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub model: Option<String>,
    /// `stream` as sent; each route has its own default.
    pub stream: Option<bool>,
    pub n: u32,
    pub max_tokens: Option<u64>,
    pub seed: Option<u64>,
    pub include_usage: bool,
    /// The first tool's name, when the request offers tools (and does not forbid them).
    pub tool: Option<String>,
    /// TGI `parameters.details`.
    pub details: bool,
    /// The prompt's deterministic token count (words).
    pub prompt_tokens: u64,
}

/// Reads the fields `route` honours from a JSON body.
///
/// # Errors
/// A message when the body is not a JSON object.
pub(crate) fn parse_params(route: &Route, body: &[u8]) -> Result<Params, String> {
    let value = JsonValue::parse(body, false)
        .map_err(|e| format!("We could not parse the JSON body of your request. ({e})"))?;
    if !matches!(value, JsonValue::Object(_)) {
        return Err("The JSON body of your request must be an object.".to_owned());
    }
    let mut p = Params {
        model: string(get(&value, &["model"])),
        stream: boolean(get(&value, &["stream"])),
        n: 1,
        ..Params::default()
    };
    let limit_paths: &[&[&str]] = match route {
        Route::Completions | Route::Anthropic => &[&["max_tokens"]],
        Route::Chat => &[&["max_completion_tokens"], &["max_tokens"]],
        Route::Responses => &[&["max_output_tokens"]],
        Route::Gemini { .. } => &[&["generationConfig", "maxOutputTokens"]],
        Route::Tgi => &[&["parameters", "max_new_tokens"]],
        Route::OllamaGenerate | Route::OllamaChat => &[&["options", "num_predict"]],
        Route::Models | Route::Health => &[],
    };
    p.max_tokens = limit_paths
        .iter()
        .find_map(|path| unsigned(get(&value, path)));
    let seed_paths: &[&[&str]] = &[
        &["seed"],
        &["parameters", "seed"],
        &["options", "seed"],
        &["generationConfig", "seed"],
    ];
    p.seed = seed_paths
        .iter()
        .find_map(|path| unsigned(get(&value, path)));
    if matches!(route, Route::Completions | Route::Chat) {
        p.n = unsigned(get(&value, &["n"]))
            .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX))
            .clamp(1, super::config::MAX_CHOICES);
        p.include_usage =
            boolean(get(&value, &["stream_options", "include_usage"])).unwrap_or(false);
    }
    if let (Route::Completions, Some(JsonValue::Array(prompts))) = (route, get(&value, &["prompt"]))
    {
        // A list of prompts gets `n` choices each, numbered prompt by prompt, as OpenAI's
        // completions API answers batched prompts.
        let prompts = u32::try_from(prompts.len().max(1)).unwrap_or(u32::MAX);
        p.n = p.n.saturating_mul(prompts).min(super::config::MAX_CHOICES);
    }
    if matches!(route, Route::Chat) {
        let forbidden = string(get(&value, &["tool_choice"])).as_deref() == Some("none");
        if let (Some(JsonValue::Array(tools)), false) = (get(&value, &["tools"]), forbidden) {
            p.tool = tools.first().map(|t| {
                string(get(t, &["function", "name"]))
                    .or_else(|| string(get(t, &["name"])))
                    .unwrap_or_else(|| "tool".to_owned())
            });
        }
    }
    p.details = boolean(get(&value, &["parameters", "details"])).unwrap_or(false);
    let prompt_keys: &[&str] = match route {
        Route::Completions | Route::OllamaGenerate => &["prompt", "system"],
        Route::Chat | Route::OllamaChat => &["messages"],
        Route::Responses => &["input", "instructions"],
        Route::Anthropic => &["messages", "system"],
        Route::Gemini { .. } => &["contents", "systemInstruction"],
        Route::Tgi => &["inputs"],
        Route::Models | Route::Health => &[],
    };
    p.prompt_tokens = prompt_keys
        .iter()
        .filter_map(|key| get(&value, &[key]))
        .map(|v| words_in(v, 0))
        .sum();
    Ok(p)
}

/// The value at `path` (object keys) under `value`.
fn get<'v, 's>(value: &'v JsonValue<'s>, path: &[&str]) -> Option<&'v JsonValue<'s>> {
    path.iter().try_fold(value, |v, key| match v {
        JsonValue::Object(obj) => obj.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    })
}

fn string(v: Option<&JsonValue<'_>>) -> Option<String> {
    match v {
        Some(JsonValue::Str(s)) => Some(Cow::to_string(s)),
        _ => None,
    }
}

fn boolean(v: Option<&JsonValue<'_>>) -> Option<bool> {
    match v {
        Some(JsonValue::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn unsigned(v: Option<&JsonValue<'_>>) -> Option<u64> {
    match v {
        Some(JsonValue::Int(i)) => u64::try_from(*i).ok(),
        _ => None,
    }
}

/// Words in every string under `value`, except values of keys that are not prompt text.
fn words_in(value: &JsonValue<'_>, depth: u32) -> u64 {
    if depth > 64 {
        return 0;
    }
    match value {
        JsonValue::Str(s) => count_words(s),
        JsonValue::Array(items) => items.iter().map(|v| words_in(v, depth + 1)).sum(),
        JsonValue::Object(obj) => obj
            .iter()
            .filter(|(k, _)| {
                !matches!(k.as_ref(), "role" | "type" | "id" | "name" | "tool_call_id")
            })
            .map(|(_, v)| words_in(v, depth + 1))
            .sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let post = hyper::Method::POST;
        assert_eq!(
            Route::find(&post, "/v1/chat/completions"),
            Some(Route::Chat)
        );
        assert_eq!(
            Route::find(
                &post,
                "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
            ),
            Some(Route::Gemini {
                model: "gemini-2.0-flash".to_owned(),
                stream: true
            })
        );
        assert_eq!(Route::find(&post, "/v1beta/models/:generateContent"), None);
        assert_eq!(Route::find(&post, "/nope"), None);
        assert_eq!(
            Route::find(&hyper::Method::GET, "/v1/chat/completions"),
            None
        );
        assert_eq!(
            Route::find(&hyper::Method::GET, "/health"),
            Some(Route::Health)
        );
    }

    #[test]
    fn a_prompt_list_gets_n_choices_per_prompt() {
        let body = br#"{"model":"m","prompt":["a b","c","d"],"n":2}"#;
        let p = parse_params(&Route::Completions, body).unwrap();
        assert_eq!((p.n, p.prompt_tokens), (6, 4));
    }

    #[test]
    fn reads_chat_fields_and_counts_prompt_words() {
        let body = br#"{"model":"m","stream":true,"n":3,"max_tokens":7,"seed":9,
            "stream_options":{"include_usage":true},
            "messages":[{"role":"system","content":"Be brief."},
                        {"role":"user","content":[{"type":"text","text":"Write a song."}]}],
            "tools":[{"type":"function","function":{"name":"get_weather"}}]}"#;
        let p = parse_params(&Route::Chat, body).unwrap();
        assert_eq!(p.model.as_deref(), Some("m"));
        assert_eq!(
            (p.stream, p.n, p.max_tokens, p.seed),
            (Some(true), 3, Some(7), Some(9))
        );
        assert!(p.include_usage);
        assert_eq!(p.tool.as_deref(), Some("get_weather"));
        assert_eq!(p.prompt_tokens, 5);
    }

    #[test]
    fn reads_nested_limits() {
        let p = parse_params(
            &Route::Tgi,
            br#"{"inputs":"a b","parameters":{"max_new_tokens":4,"details":true}}"#,
        )
        .unwrap();
        assert_eq!(
            (p.max_tokens, p.details, p.prompt_tokens),
            (Some(4), true, 2)
        );
        let p = parse_params(
            &Route::OllamaChat,
            br#"{"messages":[],"options":{"num_predict":3}}"#,
        )
        .unwrap();
        assert_eq!(p.max_tokens, Some(3));
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        for body in [&b""[..], b"[]", b"{", b"nul", b"\xff"] {
            assert!(parse_params(&Route::Chat, body).is_err());
        }
    }
}
