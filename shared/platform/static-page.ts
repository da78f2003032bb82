import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { securityHeaders } from '#http/responses.ts';
import type { HttpHandler } from '#platform/handlers.ts';

/**
 * A small static page served by a function of its own (the inbox, the observatory): its files read once when the
 * function loads (they never change while it runs), each answered with its type and a strict policy, anything else a
 * plain 404 naming where the page is.
 *
 * Only the page's own scripts and style, no inline code or style attributes, no framing, and API calls to its own
 * origin only: a page that holds a token (and, for the inbox, shows patient details) must not run anything injected
 * into it.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface StaticPage {
  /** GET /<page>: its index.html. */
  index(): ReturnType<HttpHandler>;
  /** GET /<page>/{asset}: one of its files by name, or 404. */
  asset(event: APIGatewayProxyEvent): ReturnType<HttpHandler>;
}

export interface StaticPageFiles {
  /** The page's files beside the bundle (copied there by infra/constructs/functions.ts from the function's `assets`). */
  directory: URL;
  /** Each file's name and content type, index.html among them. */
  files: Readonly<Record<string, string>>;
  /** What the page is and where (`inbox`, `/inbox`), for the 404's message. */
  name: string;
  path: string;
}

export function staticPage({ directory, files, name: page, path }: StaticPageFiles): StaticPage {
  const bodies = new Map(
    Object.keys(files).map((name) => [name, readFileSync(new URL(name, directory), 'utf8')]),
  );
  const answer = (name: string): ReturnType<HttpHandler> => {
    const body = bodies.get(name);
    if (body === undefined || !Object.hasOwn(files, name))
      return Promise.resolve({
        statusCode: 404,
        headers: { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8' },
        body: `No page file named ${JSON.stringify(name.slice(0, 100))}; the ${page} is at ${path}\n`,
      });
    return Promise.resolve({
      statusCode: 200,
      headers: {
        ...securityHeaders,
        'Content-Type': files[name] ?? 'application/octet-stream',
        'Content-Security-Policy': contentSecurityPolicy,
        'Referrer-Policy': 'no-referrer',
      },
      body,
    });
  };
  return {
    index: () => answer('index.html'),
    asset: (event) => answer(event.pathParameters?.asset ?? ''),
  };
}
