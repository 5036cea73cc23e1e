//! Reading an outbound call's answer (upstream, JWKS) with a size limit: a declared length over the
//! limit is refused before reading, and the body is read chunk by chunk so an undeclared or lying
//! length never buffers more than the limit.

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CappedError {
    /// Longer than the limit (declared or as read).
    TooLarge,
    /// The transport failed mid-body (`timeout` when the deadline ran out).
    Transport { timeout: bool },
}

/// The whole body of `res`, at most `max` bytes.
pub async fn read_capped(mut res: reqwest::Response, max: usize) -> Result<Vec<u8>, CappedError> {
    if res.content_length().is_some_and(|n| n > max as u64) {
        return Err(CappedError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| CappedError::Transport { timeout: e.is_timeout() })? {
        if body.len() + chunk.len() > max {
            return Err(CappedError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
