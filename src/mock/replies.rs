//! The whole JSON replies that are not generated text: health, the model list, the
//! OpenAI-style errors (404, 400, 413) and each provider's error body for `status:CODE`
//! faults (with `Retry-After`). Routing is `server.rs`'s job.

use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Response, StatusCode};

use super::json::push_str;
use super::stream::MockBody;
use super::wire::Wire;

/// A JSON response with `status`.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Response<MockBody> {
    let mut resp = Response::new(MockBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// The `/v1/models` list: the configured model.
pub(crate) fn models(model: &str) -> Response<MockBody> {
    let mut b = b"{\"object\":\"list\",\"data\":[{\"id\":".to_vec();
    push_str(&mut b, model);
    b.extend_from_slice(b",\"object\":\"model\",\"created\":0,\"owned_by\":\"seltzer\"}]}");
    json(StatusCode::OK, b)
}

/// An OpenAI-style error response.
pub(crate) fn openai_error(
    status: StatusCode,
    message: &str,
    kind: &str,
    code: Option<&str>,
) -> Response<MockBody> {
    let mut b = b"{\"error\":{\"message\":".to_vec();
    push_str(&mut b, message);
    b.extend_from_slice(b",\"type\":");
    push_str(&mut b, kind);
    b.extend_from_slice(b",\"param\":null,\"code\":");
    match code {
        Some(code) => push_str(&mut b, code),
        None => b.extend_from_slice(b"null"),
    }
    b.extend_from_slice(b"}}");
    json(status, b)
}

/// A `status:CODE` fault: the provider's error body, `Retry-After` on 429 and 503.
pub(crate) fn status_fault(wire: Wire, code: u16, retry_after_s: u64) -> Response<MockBody> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (kind, message, anthropic_kind, gemini_status) = match code {
        429 => (
            "rate_limit_exceeded",
            "Rate limit reached for requests. Please try again later.",
            "rate_limit_error",
            "RESOURCE_EXHAUSTED",
        ),
        503 => (
            "server_error",
            "The engine is currently overloaded, please try again later.",
            "overloaded_error",
            "UNAVAILABLE",
        ),
        500..=599 => (
            "server_error",
            super::openai::SERVER_ERROR,
            "api_error",
            "INTERNAL",
        ),
        _ => (
            "invalid_request_error",
            "The request was rejected (mock status fault).",
            "invalid_request_error",
            "INVALID_ARGUMENT",
        ),
    };
    let mut b = Vec::with_capacity(256);
    match wire {
        Wire::Anthropic => {
            b.extend_from_slice(b"{\"type\":\"error\",\"error\":{\"type\":");
            push_str(&mut b, anthropic_kind);
            b.extend_from_slice(b",\"message\":");
            push_str(&mut b, message);
            b.extend_from_slice(b"}}");
        }
        Wire::Gemini => {
            b.extend_from_slice(format!("{{\"error\":{{\"code\":{code},\"message\":").as_bytes());
            push_str(&mut b, message);
            b.extend_from_slice(b",\"status\":");
            push_str(&mut b, gemini_status);
            b.extend_from_slice(b"}}");
        }
        Wire::Tgi => {
            b.extend_from_slice(b"{\"error\":");
            push_str(&mut b, message);
            b.extend_from_slice(b",\"error_type\":\"overloaded\"}");
        }
        Wire::OllamaGenerate | Wire::OllamaChat => {
            b.extend_from_slice(b"{\"error\":");
            push_str(&mut b, message);
            b.push(b'}');
        }
        Wire::Completions | Wire::Chat | Wire::Responses => {
            return with_retry(
                openai_error(status, message, kind, Some(kind)),
                code,
                retry_after_s,
            );
        }
    }
    with_retry(json(status, b), code, retry_after_s)
}

/// Adds `Retry-After` for 429 and 503.
fn with_retry(mut resp: Response<MockBody>, code: u16, retry_after_s: u64) -> Response<MockBody> {
    if code == 429 || code == 503 {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after_s));
    }
    resp
}
