/**
 * Issue and verify with @digitalbazaar/vc and eddsa-rdfc-2022, using the
 * library's default checks: CredentialIssuancePurpose (the verification
 * method's controller lists it under assertionMethod, and that controller is
 * the credential's issuer), validity dates, and Bitstring Status List status.
 */
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus as checkBitstringStatus} from
  '@digitalbazaar/vc-bitstring-status-list';

export function signingSuite({keyPair, created}) {
  return new DataIntegrityProof({
    signer: keyPair.signer(), date: created, cryptosuite: eddsaRdfc2022,
  });
}

export function verifyingSuite() {
  return new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
}

export async function issueCredential({credential, keyPair, created, documentLoader}) {
  return vc.issue({
    credential, suite: signingSuite({keyPair, created}), documentLoader,
  });
}

/**
 * The status list library reports a set bit as `status: true` yet
 * `verified: true` (the list itself verified); a verifier must not accept a
 * credential whose revocation or suspension bit is set.
 */
async function checkStatus(options) {
  const result = await checkBitstringStatus(options);
  if(!result.verified) {
    return result;
  }
  const set = result.results.filter(({status}) => status === true);
  if(set.length === 0) {
    return result;
  }
  const described = set.map(({credentialStatus: {statusPurpose, statusListIndex,
    statusListCredential}}) =>
    `${statusPurpose} bit ${statusListIndex} of ${statusListCredential} is set`);
  return {
    ...result, verified: false,
    error: new Error(`Credential status: ${described.join('; ')}.`),
  };
}

function errorMessages(error) {
  if(!error) {
    return [];
  }
  if(Array.isArray(error)) {
    return error.flatMap(errorMessages);
  }
  const nested = Array.isArray(error.errors) ? error.errors.flatMap(errorMessages) : [];
  if(nested.length > 0) {
    return nested;
  }
  const message = error.message ?? String(error);
  // jsonld.js keeps the document loader's error in details.cause
  const underlying = error.cause ?? error.details?.cause;
  const causeMessage = underlying?.message ?? underlying;
  const cause = causeMessage && !message.includes(causeMessage) ?
    ` (cause: ${causeMessage})` : '';
  return [`${message}${cause}${jsonLdEventOf(error)}`];
}

/** jsonld.js safe mode names the term or IRI it choked on: keep that. */
function jsonLdEventOf(error) {
  const event = error.details?.event;
  if(!event) {
    return '';
  }
  return ` (${event.code}: ${event.message} ${JSON.stringify(event.details ?? {})})`;
}

/**
 * Which checks ran and how they ended: true, false, or null (not reached).
 * jsonld-signatures validates a proof's purpose only after its signature
 * verified, so a purpose result means the signature was good.
 */
function checksOf(result) {
  // @digitalbazaar/vc reports a failed credential check (dates, shape) as a
  // result without a `proof`: no proof was looked at then
  const proofs = (result.results ?? []).filter(entry => 'proof' in entry);
  const purposeResults = proofs.flatMap(({purposeResult}) =>
    purposeResult === undefined ? [] : [].concat(purposeResult));
  return {
    signature: proofs.length ? proofs.some(({verified, purposeResult}) =>
      verified || purposeResult !== undefined) : null,
    purpose: purposeResults.length ?
      purposeResults.every(({valid}) => valid) : null,
    status: result.statusResult ? Boolean(result.statusResult.verified) : null,
  };
}

export async function verifyCredential({credential, documentLoader, now}) {
  let result;
  try {
    result = await vc.verifyCredential({
      credential, suite: verifyingSuite(), documentLoader, checkStatus,
      ...(now && {now}),
    });
  } catch(error) {
    return {verified: false, errors: errorMessages(error),
      checks: {signature: null, purpose: null, status: null}};
  }
  const errors = [...new Set([
    ...errorMessages(result.error),
    ...(result.results ?? []).flatMap(({error}) => errorMessages(error)),
    ...errorMessages(result.statusResult?.error),
  ])];
  return {verified: result.verified === true, errors, checks: checksOf(result)};
}
