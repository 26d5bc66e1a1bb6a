import contentType from 'content-type';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { ServiceError } from './errors.js';

/** Refuses bytes that are not UTF-8 instead of replacing them with U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 8259: JSON exchanged between systems is UTF-8. */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8']);

/** Prototype keys would change how every later object of the process behaves. */
const PROTOTYPE_KEYS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Parses JSON bodies strictly. An empty body counts as no body: 2019 master
 * servers and many HTTP clients send `Content-Type: application/json` on a
 * GET or DELETE without one, and a route that needs a body still refuses it
 * by its schema. Other charsets, compressed bodies, bytes that are not UTF-8
 * and prototype keys are refused with an answer that says which it was.
 */
export function installJsonBody(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonBody(request, body as Buffer));
    } catch (error) {
      done(error as ServiceError, undefined);
    }
  });
}

function parseJsonBody(request: FastifyRequest, body: Buffer): unknown {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new ServiceError(415, 'unsupported_encoding', 'the body must not be compressed');
  }
  const charset = charsetOf(request.headers['content-type'] ?? '');
  if (charset !== undefined && !UTF8_CHARSETS.has(charset)) {
    throw new ServiceError(415, 'unsupported_charset', 'the body must be JSON in UTF-8');
  }
  if (body.length === 0) return undefined;

  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new ServiceError(400, 'invalid_body', 'the body is not valid UTF-8');
  }
  try {
    return secureJson.parse(text, undefined, PROTOTYPE_KEYS);
  } catch (error) {
    const prototypeKey = /forbidden (prototype|constructor) property/.test(String(error));
    const detail = prototypeKey
      ? 'the body holds a __proto__ or constructor key, which is refused'
      : 'the body is not valid JSON';
    throw new ServiceError(400, 'invalid_body', detail);
  }
}

/** The charset parameter of a media type, in lower case, if it has one. */
function charsetOf(header: string): string | undefined {
  try {
    return contentType.parse(header).parameters.charset?.toLowerCase();
  } catch {
    throw new ServiceError(415, 'unsupported_media_type', 'the content type is malformed');
  }
}
