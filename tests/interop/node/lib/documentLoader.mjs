/**
 * A static, offline JSON-LD document loader. It answers for:
 *   - the bundled contexts (./contexts.mjs),
 *   - did:key DIDs and their verification methods (self-describing),
 *   - URLs the caller mapped to local JSON files (`--resolve URL=PATH`):
 *     did:web DIDs, https controller documents, status list credentials.
 *     A `URL#fragment` whose base URL is mapped resolves to the verification
 *     method with exactly that id inside the mapped document.
 * Anything else is an error: nothing is ever fetched.
 */
import {readFileSync} from 'node:fs';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import {findVerificationMethod} from '@digitalbazaar/did-io';

import {loadContexts} from './contexts.mjs';

export function createDidKeyResolver() {
  const resolver = didKeyDriver();
  resolver.use({
    multibaseMultikeyHeader: 'z6Mk',
    fromMultibase: Ed25519Multikey.from,
  });
  return resolver;
}

/** Parse `URL=PATH` pairs into a Map of URL -> parsed JSON document. */
export function readResolveMap(pairs) {
  const documents = new Map();
  for(const pair of pairs) {
    const split = pair.indexOf('=');
    if(split <= 0) {
      throw new Error(`--resolve wants URL=PATH, got "${pair}"`);
    }
    const url = pair.slice(0, split);
    const file = pair.slice(split + 1);
    if(url.startsWith('did:key:')) {
      throw new Error(
        `--resolve ${url}: did:key resolves itself and cannot be overridden`);
    }
    if(url.includes('#')) {
      throw new Error(
        `--resolve ${url}: map the document URL; fragments resolve inside it`);
    }
    documents.set(url, JSON.parse(readFileSync(file, 'utf8')));
  }
  return documents;
}

/**
 * The verification method `url` names inside `document`, found as
 * digitalbazaar's did-io finds it: by exact id (a relative "#key-1" id does
 * not match), given the document's @context as did-io's resolvers do.
 */
function verificationMethodIn(document, url) {
  const method = findVerificationMethod({doc: document, methodId: url});
  if(!method) {
    throw new Error(`offline document loader: ${document.id ?? 'the document'} ` +
      `mapped for ${url.split('#')[0]} has no verification method with id ${url}`);
  }
  return {'@context': document['@context'], ...method};
}

function loaded(url, document) {
  return {contextUrl: null, documentUrl: url, document};
}

export function createDocumentLoader({resolve = new Map()} = {}) {
  const contexts = loadContexts();
  const didKey = createDidKeyResolver();

  return async function documentLoader(url) {
    const context = contexts.get(url);
    if(context) {
      return loaded(url, context.document);
    }
    if(url.startsWith('did:key:')) {
      return loaded(url, await didKey.get({url}));
    }
    if(resolve.has(url)) {
      return loaded(url, structuredClone(resolve.get(url)));
    }
    const [baseUrl] = url.split('#');
    if(url.includes('#') && resolve.has(baseUrl)) {
      return loaded(url, verificationMethodIn(resolve.get(baseUrl), url));
    }
    throw new Error(
      `offline document loader: no local document for ${url} ` +
      '(bundled contexts, did:key, or --resolve URL=PATH only; never fetched)');
  };
}
