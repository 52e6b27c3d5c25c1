// Calls to the audioclf API and the plain-language explanation of its errors.

/** An API failure: `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** Fetch `path` and parse its JSON; throws ApiError on a network failure or an error status. */
export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "network");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
    throw new ApiError(response.status, detail, response.headers.get("Retry-After"));
  }
  return body;
}

/** Fetch `path` and return the Response (to read as a blob or a stream); throws ApiError,
 * with the JSON `detail` when there is one, on a network failure or an error status. */
export async function fetchOk(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    if (error && error.name === "AbortError") {
      throw error;
    }
    throw new ApiError(0, "network");
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
    throw new ApiError(response.status, detail, response.headers.get("Retry-After"));
  }
  return response;
}

/** A message for the user, naming the cause and what to do. */
export function explain(error) {
  if (!(error instanceof ApiError)) {
    return `Something went wrong: ${error.message || error}`;
  }
  const detail = (error.detail || "").replace(/\.$/, "");
  switch (error.status) {
    case 0:
      return "Cannot reach the server. Check your connection, or whether the server is running, then try again.";
    case 413:
      return `File too big or too long: ${detail || "over the server's upload limit"}. Trim it or upload a shorter clip.`;
    case 415:
    case 422:
      return `Could not read this file as audio: ${detail || "unknown or damaged format"}. Try WAV, FLAC, MP3, OGG or WebM.`;
    case 429: {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again in a minute.";
      return `Too many requests from this device: ${detail || "rate limit reached"}.${wait}`;
    }
    case 502:
    case 503:
    case 504:
      return `The server is not available right now (${error.status}). Try again shortly.`;
    default:
      return `The server answered ${error.status}: ${detail || "request failed"}.`;
  }
}
