import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * A minimal HTTP/1.1 client on node:http. It is lighter than fetch (undici), which matters because the client
 * shares one process, and so one CPU budget, with the whole system under test. Never throws: a network error or a
 * timeout is reported as status 0, so a load run counts it instead of stopping.
 */

export interface HttpResponse {
  status: number;
  body: string;
  latencyMs: number;
  error?: string;
}

export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly baseUrl: string,
    /** Sent with every request (the bearer token). */
    private readonly defaultHeaders: Record<string, string> = {},
    private readonly timeoutMs = 30_000,
  ) {
    // Keep-alive as a real client would; maxSockets above any scenario's concurrency so none waits for a socket.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  postJson(path: string, body: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return this.request('POST', path, body, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      ...headers,
    });
  }

  get(path: string): Promise<HttpResponse> {
    return this.request('GET', path, undefined, {});
  }

  /** Closes the pooled sockets; each scenario uses a fresh client, so no socket idles past the server's timeout. */
  close(): void {
    this.agent.destroy();
  }

  private request(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    const started = performance.now();
    return new Promise((resolve) => {
      const finish = (status: number, text: string, error?: string): void =>
        resolve({ status, body: text, latencyMs: performance.now() - started, ...(error ? { error } : {}) });
      const request = http.request(
        new URL(path, this.baseUrl),
        {
          method,
          agent: this.agent,
          headers: { ...this.defaultHeaders, ...headers },
          timeout: this.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => finish(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          response.on('error', (error) => finish(0, '', error.message));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', (error) => finish(0, '', error.message));
      request.end(body);
    });
  }
}

/** Reads a string field from a JSON answer; undefined if the body is not JSON or lacks it. */
export function jsonField(body: string, field: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed === null || typeof parsed !== 'object') return undefined;
    const value = (parsed as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
