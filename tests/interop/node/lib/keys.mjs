/**
 * SkillCred's key file -> a digitalbazaar Ed25519 Multikey key pair.
 *
 * Key file: {"type": "Multikey", "publicKeyMultibase": "z6Mk...",
 *            "secretKeyMultibase": "z3u2..."}, where the secret is multibase
 * base58btc of the multicodec ed25519-priv header (0x80 0x26) + 32-byte seed.
 */
import {readFileSync} from 'node:fs';

import * as base58btc from 'base58-universal';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const ED25519_PRIV_HEADER = [0x80, 0x26];
const SEED_LENGTH = 32;

export function didKeyOf(publicKeyMultibase) {
  return `did:key:${publicKeyMultibase}`;
}

export function didKeyVerificationMethod(publicKeyMultibase) {
  return `${didKeyOf(publicKeyMultibase)}#${publicKeyMultibase}`;
}

function seedFromSecretKeyMultibase(secretKeyMultibase) {
  if(typeof secretKeyMultibase !== 'string' || !secretKeyMultibase.startsWith('z')) {
    throw new Error('secretKeyMultibase must be multibase base58btc ("z...")');
  }
  const bytes = base58btc.decode(secretKeyMultibase.slice(1));
  const header = [...bytes.subarray(0, 2)];
  if(header.join() !== ED25519_PRIV_HEADER.join() ||
    bytes.length !== ED25519_PRIV_HEADER.length + SEED_LENGTH) {
    throw new Error(
      'secretKeyMultibase must be ed25519-priv (0x80 0x26) + a 32-byte seed');
  }
  return bytes.subarray(ED25519_PRIV_HEADER.length);
}

/**
 * The key pair in `keyFile`, identified as `verificationMethod` (default: its
 * did:key). The public key is derived from the seed and must match the file.
 */
export async function keyPairFromKeyFile(keyFile, {verificationMethod} = {}) {
  const {type, publicKeyMultibase, secretKeyMultibase} =
    JSON.parse(readFileSync(keyFile, 'utf8'));
  if(type !== 'Multikey') {
    throw new Error(`${keyFile}: type must be "Multikey", got "${type}"`);
  }
  const id = verificationMethod ?? didKeyVerificationMethod(publicKeyMultibase);
  const controller = id.split('#')[0];
  const keyPair = await Ed25519Multikey.generate({
    id, controller, seed: seedFromSecretKeyMultibase(secretKeyMultibase),
  });
  if(keyPair.publicKeyMultibase !== publicKeyMultibase) {
    throw new Error(
      `${keyFile}: publicKeyMultibase does not belong to the secret key ` +
      `(the seed gives ${keyPair.publicKeyMultibase})`);
  }
  return keyPair;
}

/** A fresh in-memory key pair identified by its did:key. */
export async function freshDidKeyPair() {
  const keyPair = await Ed25519Multikey.generate();
  const {publicKeyMultibase} = keyPair;
  return Ed25519Multikey.from({
    ...(await keyPair.export({publicKey: true, secretKey: true})),
    id: didKeyVerificationMethod(publicKeyMultibase),
    controller: didKeyOf(publicKeyMultibase),
  });
}
