// A real OpenID Provider for Homesafe's sign-in tests: panva's certified `oidc-provider`
// (tests/oidc/package.json pins the version; tests/oidc_provider.py installs it and starts this).
//
// Reads one JSON object from the HOMESAFE_TEST_OP environment variable:
//   { "clients": [{ "client_id", "client_secret", "redirect_uris", "id_token_signed_response_alg" }],
//     "accounts": { "<sub>": { "preferred_username", "name", "email", "groups": [...] } },
//     "conform_id_token_claims": false }
// Listens on 127.0.0.1 on a port of the system's choosing and prints `listening <issuer>` once
// ready. Keys (RS256 and ES256) are made fresh at every start, so two providers never share one.
// Sign-in is the library's devInteractions: any login name is accepted (the account's claims come
// from `accounts`), then a consent form; the tests post both forms as a browser would.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const options = JSON.parse(process.env.HOMESAFE_TEST_OP || '{}');
const accounts = options.accounts || {};

function privateJwk(type, params, kid) {
  const { privateKey } = generateKeyPairSync(type, params);
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

const jwks = {
  keys: [
    { ...privateJwk('rsa', { modulusLength: 2048 }, 'rsa-1'), alg: 'RS256' },
    { ...privateJwk('ec', { namedCurve: 'P-256' }, 'ec-1'), alg: 'ES256' },
  ],
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: options.clients || [],
    jwks,
    cookies: { keys: ['homesafe-test-provider-cookie-key'] },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups'],
    },
    conformIdTokenClaims: Boolean(options.conform_id_token_claims),
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    async findAccount(ctx, sub) {
      const account = accounts[sub] || {};
      return {
        accountId: sub,
        async claims() {
          return { sub, groups: [], ...account };
        },
      };
    },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
