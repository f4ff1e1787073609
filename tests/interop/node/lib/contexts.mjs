/**
 * The JSON-LD contexts this harness may load, and nothing else.
 *
 * SkillCred's bundled contexts (service/vc/contexts/urlmap.json, primary
 * `file` of each entry) come first: the harness must process credentials
 * with the very bytes SkillCred signs with. Contexts that the digitalbazaar
 * libraries ship and SkillCred does not bundle (the legacy security v1/v2
 * contexts jsonld-signatures frames non-DID controller documents with) are
 * added from those packages.
 */
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import {isDeepStrictEqual} from 'node:util';

import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import securityContext from '@digitalbazaar/security-context';
import {contexts as statusListContexts} from
  '@digitalbazaar/vc-bitstring-status-list-context';

export const SKILLCRED_CONTEXTS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../service/vc/contexts');

const SHIPPED_BY_JS_LIBRARIES = [
  ['@digitalbazaar/credentials-context', credentialsContexts],
  ['@digitalbazaar/security-context', securityContext.contexts],
  ['@digitalbazaar/vc-bitstring-status-list-context', statusListContexts],
];

function readSkillCredContexts() {
  const urlmapFile = path.join(SKILLCRED_CONTEXTS_DIR, 'urlmap.json');
  const {contexts: urlmap} = JSON.parse(readFileSync(urlmapFile, 'utf8'));
  const contexts = new Map();
  for(const [url, {file}] of Object.entries(urlmap)) {
    const text = readFileSync(path.join(SKILLCRED_CONTEXTS_DIR, file), 'utf8');
    contexts.set(url, {document: JSON.parse(text), source: `skillcred:${file}`});
  }
  return contexts;
}

/** url -> {document, source}; SkillCred's copy wins where both exist. */
export function loadContexts() {
  const contexts = readSkillCredContexts();
  for(const [packageName, shipped] of SHIPPED_BY_JS_LIBRARIES) {
    for(const [url, document] of shipped) {
      if(!contexts.has(url)) {
        contexts.set(url, {document, source: `npm:${packageName}`});
      }
    }
  }
  return contexts;
}

/**
 * For every context URL both SkillCred and a JS library provide: do they
 * hold the same JSON? (Different contexts would mean different signatures.)
 */
export function compareWithShippedContexts() {
  const skillcred = readSkillCredContexts();
  const comparisons = [];
  for(const [packageName, shipped] of SHIPPED_BY_JS_LIBRARIES) {
    for(const [url, document] of shipped) {
      const ours = skillcred.get(url);
      comparisons.push({
        url,
        package: packageName,
        bundled_by_skillcred: Boolean(ours),
        same_json: ours ? isDeepStrictEqual(ours.document, document) : null,
      });
    }
  }
  return comparisons;
}
