#!/usr/bin/env node
/**
 * dbvc: an independent issuer/verifier on digitalbazaar's VC libraries
 * (@digitalbazaar/vc + eddsa-rdfc-2022), fully offline.
 *
 *   node dbvc.mjs sign --key KEYFILE [--created ISO] [--verification-method URL]
 *       unsigned credential on stdin -> signed credential on stdout
 *   node dbvc.mjs verify [--resolve URL=PATH ...] [--now ISO]
 *       signed credential on stdin -> {"verified", "errors", "checks"};
 *       exit 0 only when verified
 *   node dbvc.mjs bench --n N [--rounds R] FILE
 *       -> {"issue_per_s", "verify_per_s", "n", ...}
 *   node dbvc.mjs contexts
 *       -> which bundled contexts the JS libraries also ship, and whether equal
 *
 * Exit status: 0 success / verified, 1 not verified, 2 usage or harness error.
 */
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';

import {bench} from './lib/bench.mjs';
import {compareWithShippedContexts} from './lib/contexts.mjs';
import {createDocumentLoader, readResolveMap} from './lib/documentLoader.mjs';
import {issueCredential, verifyCredential} from './lib/credentials.mjs';
import {keyPairFromKeyFile} from './lib/keys.mjs';

class UsageError extends Error {}

const COMMANDS = {
  async sign(args) {
    const {values} = parseArgs({args, options: {
      key: {type: 'string'},
      created: {type: 'string'},
      'verification-method': {type: 'string'},
    }});
    if(!values.key) {
      throw new UsageError('sign needs --key KEYFILE');
    }
    const keyPair = await keyPairFromKeyFile(values.key, {
      verificationMethod: values['verification-method'],
    });
    const credential = JSON.parse(readFileSync(0, 'utf8'));
    const signed = await issueCredential({
      credential, keyPair, created: values.created,
      documentLoader: createDocumentLoader(),
    });
    return {output: signed, exitCode: 0};
  },

  async verify(args) {
    const {values} = parseArgs({args, options: {
      resolve: {type: 'string', multiple: true, default: []},
      now: {type: 'string'},
    }});
    const documentLoader = createDocumentLoader({
      resolve: readResolveMap(values.resolve),
    });
    const text = readFileSync(0, 'utf8');
    let credential;
    try {
      credential = JSON.parse(text);
    } catch(error) {
      const errors = [`input is not JSON: ${error.message}`];
      return {output: {verified: false, errors, checks: {}}, exitCode: 1};
    }
    const result = await verifyCredential({
      credential, documentLoader, now: values.now,
    });
    return {output: result, exitCode: result.verified ? 0 : 1};
  },

  async bench(args) {
    const {values, positionals} = parseArgs({args, allowPositionals: true,
      options: {n: {type: 'string'}, rounds: {type: 'string', default: '3'}}});
    const n = Number.parseInt(values.n, 10);
    const rounds = Number.parseInt(values.rounds, 10);
    if(positionals.length !== 1 || !(n > 0) || !(rounds > 0)) {
      throw new UsageError('bench needs --n N (> 0) and one FILE');
    }
    const unsigned = JSON.parse(readFileSync(positionals[0], 'utf8'));
    return {output: await bench({unsigned, n, rounds}), exitCode: 0};
  },

  async contexts() {
    return {output: compareWithShippedContexts(), exitCode: 0};
  },
};

async function main([command, ...args]) {
  if(!Object.hasOwn(COMMANDS, command ?? '')) {
    throw new UsageError(
      `usage: dbvc.mjs ${Object.keys(COMMANDS).join('|')} ... (got "${command}")`);
  }
  const {output, exitCode} = await COMMANDS[command](args);
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return exitCode;
}

main(process.argv.slice(2)).then(
  exitCode => {
    process.exitCode = exitCode;
  },
  error => {
    const text = error instanceof UsageError ? error.message : error.stack ?? error;
    process.stderr.write(`dbvc: ${text}\n`);
    process.exitCode = 2;
  });
