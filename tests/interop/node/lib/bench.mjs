/**
 * Issue/verify throughput of @digitalbazaar/vc + eddsa-rdfc-2022 in one
 * process: the anchor SkillCred's own figures are compared with.
 */
import {performance} from 'node:perf_hooks';

import {createDocumentLoader} from './documentLoader.mjs';
import {freshDidKeyPair} from './keys.mjs';
import {issueCredential, verifyCredential} from './credentials.mjs';

// enough for V8 to optimise the JSON-LD and canonicalization hot paths
const WARM_UP_ITERATIONS = 100;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The credential as the fresh key may issue it: issued by the key's DID (so
 * the issuer check passes, as it would for the real issuer) and without
 * credentialStatus (a status check is a list lookup, not proof work).
 */
function asIssuedBy(unsigned, did) {
  const credential = structuredClone(unsigned);
  delete credential.proof;
  const notes = [];
  credential.issuer = typeof credential.issuer === 'object' ?
    {...credential.issuer, id: did} : did;
  notes.push('issuer set to the fresh did:key');
  if(credential.credentialStatus) {
    delete credential.credentialStatus;
    notes.push('credentialStatus removed');
  }
  return {credential, notes};
}

async function timeEach(inputs, operation) {
  const outputs = [];
  const start = performance.now();
  for(const input of inputs) {
    outputs.push(await operation(input));
  }
  return {seconds: (performance.now() - start) / 1000, outputs};
}

export async function bench({unsigned, n, rounds}) {
  const documentLoader = createDocumentLoader();
  const keyPair = await freshDidKeyPair();
  const {credential, notes} = asIssuedBy(unsigned, keyPair.controller);
  const issue = input => issueCredential({credential: input, keyPair, documentLoader});
  const verify = async input => {
    const result = await verifyCredential({credential: input, documentLoader});
    if(!result.verified) {
      throw new Error(`bench: verification failed: ${result.errors.join('; ')}`);
    }
    return result;
  };
  const copies = count => Array.from({length: count}, () => structuredClone(credential));

  const warmUp = await timeEach(copies(WARM_UP_ITERATIONS), issue);
  await timeEach(warmUp.outputs, verify);

  const issueRates = [];
  const verifyRates = [];
  for(let round = 0; round < rounds; ++round) {
    const issued = await timeEach(copies(n), issue);
    const signedCopies = issued.outputs.map(signed => structuredClone(signed));
    const verified = await timeEach(signedCopies, verify);
    issueRates.push(n / issued.seconds);
    verifyRates.push(n / verified.seconds);
  }
  const round1 = value => Math.round(value * 10) / 10;
  return {
    issue_per_s: round1(median(issueRates)),
    verify_per_s: round1(median(verifyRates)),
    n,
    rounds,
    issue_per_s_rounds: issueRates.map(round1),
    verify_per_s_rounds: verifyRates.map(round1),
    node: process.version,
    notes,
  };
}
