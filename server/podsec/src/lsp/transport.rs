//! The stdio framing in front of tower-lsp-server.
//!
//! tower-lsp-server stops reading its input at the first message it cannot decode (its framed
//! reader ends after an error), so one malformed message from a client would end the session. This
//! proxy reads the client's frames itself, answers malformed ones with JSON-RPC's own errors
//! (`-32700` parse error, `-32600` invalid request) and passes only well-formed messages on. Both
//! directions are whole frames, so an error answer never lands inside a server message.

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::UnboundedSender;

/// Largest message accepted from a client; bigger ones are answered with an error and skipped.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// One framed message, or a header the framing could not make sense of.
enum Frame {
    Body(Vec<u8>),
    Unframed(String),
}

pub(super) fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed
}

fn error_frame(id: Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } });
    frame(body.to_string().as_bytes())
}

/// Reads the next frame; `None` at the end of the input.
async fn read_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Option<Frame>> {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        let read = (&mut *reader)
            .take(64 * 1024)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue; // stray blank lines between messages
        }
        saw_header = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let Some(length) = length else {
        return Ok(Some(Frame::Unframed(
            "message without a valid Content-Length header".to_string(),
        )));
    };
    if length > MAX_MESSAGE_BYTES {
        tokio::io::copy(&mut (&mut *reader).take(length as u64), &mut tokio::io::sink()).await?;
        return Ok(Some(Frame::Unframed(format!(
            "message of {length} bytes is larger than {MAX_MESSAGE_BYTES}"
        ))));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Frame::Body(body)))
}

/// Whether a decoded value is a JSON-RPC 2.0 request, notification or response.
fn well_formed(message: &Value) -> bool {
    let Some(object) = message.as_object() else {
        return false;
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return false;
    }
    let id_ok = object
        .get("id")
        .is_none_or(|id| id.is_string() || id.is_i64() || id.is_u64() || id.is_null());
    match object.get("method") {
        Some(method) => method.is_string() && id_ok,
        None => object.contains_key("id") && (object.contains_key("result") || object.contains_key("error")),
    }
}

/// Client → server: forwards well-formed messages, answers the others.
pub async fn pump_input<R, W>(input: R, mut server: W, replies: UnboundedSender<Vec<u8>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(input);
    while let Ok(Some(next)) = read_frame(&mut reader).await {
        let body = match next {
            Frame::Body(body) => body,
            Frame::Unframed(reason) => {
                let _ = replies.send(error_frame(
                    Value::Null,
                    -32700,
                    &format!("Parse error: {reason}"),
                ));
                continue;
            }
        };
        match serde_json::from_slice::<Value>(&body) {
            Ok(message) if well_formed(&message) => {
                if server.write_all(&frame(&body)).await.is_err() || server.flush().await.is_err() {
                    break;
                }
            }
            Ok(message) => {
                let id = message
                    .get("id")
                    .cloned()
                    .filter(|id| !id.is_object() && !id.is_array())
                    .unwrap_or(Value::Null);
                let _ = replies.send(error_frame(
                    id,
                    -32600,
                    "Invalid Request: not a JSON-RPC 2.0 message",
                ));
            }
            Err(e) => {
                let _ = replies.send(error_frame(Value::Null, -32700, &format!("Parse error: {e}")));
            }
        }
    }
    // Dropping `server` ends the server's input: the session ends as when the client closes stdin.
}

/// Server → client: splits the server's output into frames for the writer.
pub async fn pump_output<R: AsyncRead + Unpin>(output: R, frames: UnboundedSender<Vec<u8>>) {
    let mut reader = BufReader::new(output);
    while let Ok(Some(Frame::Body(body))) = read_frame(&mut reader).await {
        if frames.send(frame(&body)).is_err() {
            break;
        }
    }
}

/// Writes whole frames to the client, in the order they were queued.
pub async fn write_frames<W: AsyncWrite + Unpin>(
    mut frames: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    mut output: W,
) {
    while let Some(frame) = frames.recv().await {
        if output.write_all(&frame).await.is_err() || output.flush().await.is_err() {
            break;
        }
    }
}
