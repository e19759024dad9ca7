// The gateway's HTTP API as the playground uses it: JSON GETs, streamed chat completions (OpenAI SSE),
// and errors in OpenAI's shape {error: {message, type, param, code}}.

const KEY_STORAGE = "orleanslora.playground.apiKey";

export function loadApiKey() {
  return localStorage.getItem(KEY_STORAGE) ?? "";
}

export function saveApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

/** An error answered by the server (status 0 when the request never got an answer). */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? "request failed");
    this.status = status;
    this.type = error?.type ?? null;
    this.param = error?.param ?? null;
    this.code = error?.code ?? null;
  }

  /** One line for the page: "404 model_not_found (model): adapter … is not registered". */
  describe() {
    const where = this.param ? ` (${this.param})` : "";
    const status = this.status ? `${this.status} ` : "";
    return `${status}${this.code ?? this.type ?? "error"}${where}: ${this.message}`;
  }
}

/** An error as the page shows it, whether the server answered or the request failed on the way. */
export function describeError(error) {
  return error instanceof ApiError ? error.describe() : `${error.name}: ${error.message}`;
}

function headers(json) {
  const result = {};
  const key = loadApiKey();
  if (key) result.Authorization = `Bearer ${key}`;
  if (json) result["Content-Type"] = "application/json";
  return result;
}

/** Turns a non-2xx answer into an ApiError, whatever its body. */
async function failure(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body?.error) return new ApiError(response.status, body.error);
  } catch {
    // not JSON: fall through to the status line and body text
  }
  return new ApiError(response.status, { message: text || response.statusText });
}

export async function getJson(path) {
  const response = await fetch(path, { headers: headers(false) });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/**
 * POST /v1/chat/completions with stream: true; yields each chunk object until [DONE].
 * An error event inside the stream ({error: …}) is thrown as an ApiError. Aborting `signal`
 * closes the connection, which the server turns into a cancellation.
 */
export async function* streamChat(request, signal) {
  const body = JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } });
  const response = await fetch("v1/chat/completions", { method: "POST", headers: headers(true), body, signal });
  if (!response.ok) throw await failure(response);
  for await (const data of sseData(response.body)) {
    if (data === "[DONE]") return;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new ApiError(response.status, chunk.error);
    yield chunk;
  }
}

/** The data of each server-sent event: its "data:" lines joined with "\n", dispatched at a blank line. */
async function* sseData(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split(/\r\n|\n|\r(?!$)/);
      buffer = lines.pop(); // an unfinished line (or a lone "\r" that may precede "\n") waits for more
      for (const line of lines) {
        if (line === "") {
          if (data.length) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}
