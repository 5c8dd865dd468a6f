//! Errors thrown into JavaScript carry the engine's stable code in `error.code`
//! (`ERR_AUDIOSOCKET_QUEUE_FULL`...), which the TypeScript adapter turns into an
//! `AudioSocketError` with the same code.

use audiosocket_engine::error::EngineError;
use napi::Status;

/// The `code` of a thrown error: an engine code, or a napi status for a failure of the binding.
pub struct JsCode(String);

impl AsRef<str> for JsCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Status> for JsCode {
    fn from(status: Status) -> JsCode {
        JsCode(status.as_ref().to_owned())
    }
}

/// The error to throw for `error`.
pub fn thrown(error: EngineError) -> napi::Error<JsCode> {
    napi::Error::new(JsCode(error.code.as_str().to_owned()), error.message)
}

/// The error to throw for a failure of the binding itself (a napi call, a bind error...).
pub fn failed(code: &str, message: impl Into<String>) -> napi::Error<JsCode> {
    napi::Error::new(JsCode(code.to_owned()), message.into())
}

/// Converts a napi error of the binding into one with a code.
pub fn from_napi(error: napi::Error) -> napi::Error<JsCode> {
    napi::Error::new(
        JsCode(error.status.as_ref().to_owned()),
        error.reason.clone(),
    )
}
