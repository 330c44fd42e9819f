import type * as http from 'node:http';

/** A client's `/query` request, as the relay received it. */
export interface ClientQuery {
  method: 'GET' | 'POST';
  /** The query string as the client sent it (without `?`). */
  search: string;
  headers: http.IncomingHttpHeaders;
  body?: Buffer;
}

/** Client headers a node needs to answer a query the way the client asked. */
const FORWARDED_HEADERS = ['accept', 'accept-encoding', 'content-type'];
const CREDENTIAL_PARAMS = ['u', 'p'];
const FORM = 'application/x-www-form-urlencoded';

/**
 * The parameters InfluxDB reads from a `/query` request: a form body's (only with the form
 * content type, as Go's `ParseForm` does) ahead of the URL's.
 */
export function queryParams(query: ClientQuery): URLSearchParams {
  const params = new URLSearchParams();
  const type = String(query.headers['content-type'] ?? '').toLowerCase();
  if (query.body && query.body.length > 0 && type.startsWith(FORM)) {
    for (const [k, v] of new URLSearchParams(query.body.toString('utf8'))) params.append(k, v);
  }
  for (const [k, v] of new URLSearchParams(query.search)) params.append(k, v);
  return params;
}

/**
 * The URL and headers of a client's query as one node is asked it. Whose credentials it runs with:
 * - the relay authenticated the client (`HH_AUTH_TOKEN` is set and the guard let it through):
 *   the relay's token is not a node password, so the client's `Authorization` and `u`/`p` are
 *   dropped and the node's own user from `HH_NODES` (the URL's user-info) is used;
 * - otherwise the client's own credentials (`u`/`p`, Basic, Token) are passed on unchanged and
 *   the node's user-info is removed: an anonymous client reaches the node anonymously, never
 *   as the relay's node user.
 */
export function nodeQueryRequest(
  baseUrl: URL,
  query: ClientQuery,
  relayAuthenticated: boolean,
): { url: URL; headers: http.OutgoingHttpHeaders } {
  const url = new URL('query', baseUrl.href.endsWith('/') ? baseUrl : `${baseUrl.href}/`);
  const params = new URLSearchParams(query.search);
  const headers: http.OutgoingHttpHeaders = {};
  for (const name of FORWARDED_HEADERS) {
    if (query.headers[name] !== undefined) headers[name] = query.headers[name];
  }
  if (relayAuthenticated) {
    for (const name of CREDENTIAL_PARAMS) params.delete(name);
  } else {
    url.username = '';
    url.password = '';
    if (query.headers.authorization !== undefined) {
      headers.authorization = query.headers.authorization;
    }
  }
  url.search = params.toString();
  return { url, headers };
}
