import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gaxios } from 'google-auth-library';

/**
 * Application Default Credentials without the internet: a local OAuth token endpoint that verifies the signed
 * JWT-bearer grant of a service account, and google-auth-library's transport pointed at it.
 *
 * One seam: google-auth-library 10.9 ignores a key file's `token_uri` and always posts the grant to
 * https://oauth2.googleapis.com/token (build/src/gtoken/getToken.js), so the token request is redirected to the
 * local endpoint by a request interceptor on the transport handed over in `googleAuthOptions.clientOptions`.
 * Everything else (finding the file through ADC, the JWT, the grant, the header) is the libraries' own path.
 */

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface TokenEndpoint {
  url: string;
  /** Verified grants, in order: the JWT claims. */
  grants: Record<string, unknown>[];
  /** Requests refused, with the reason. */
  refused: string[];
  close(): Promise<void>;
}

/** A tiny OAuth 2.0 token endpoint: JWT-bearer grant (RFC 7523) signed RS256 with the service account's key. */
export async function startTokenEndpoint(publicKey: KeyObject, keyId: string, clientEmail: string, accessToken: string): Promise<TokenEndpoint> {
  const grants: Record<string, unknown>[] = [];
  const refused: string[] = [];
  const refuse = (res: import('node:http').ServerResponse, why: string): void => {
    refused.push(why);
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_grant', error_description: why }));
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      if (req.url !== '/token') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found');
        return;
      }
      if (req.method !== 'POST') return refuse(res, `method ${req.method}`);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return refuse(res, `grant_type ${form.get('grant_type')}`);
      const parts = (form.get('assertion') ?? '').split('.');
      if (parts.length !== 3) return refuse(res, 'assertion is not a JWS');
      const [header64 = '', claims64 = '', signature64 = ''] = parts;
      const header = JSON.parse(Buffer.from(header64, 'base64url').toString('utf8')) as Record<string, unknown>;
      const claims = JSON.parse(Buffer.from(claims64, 'base64url').toString('utf8')) as Record<string, unknown>;
      // google-auth-library sends no `kid`; Google then tries the account's keys. Here there is one.
      if (header['alg'] !== 'RS256' || (header['kid'] !== undefined && header['kid'] !== keyId)) return refuse(res, `header ${JSON.stringify(header)}`);
      const signed = verify('RSA-SHA256', Buffer.from(`${header64}.${claims64}`), publicKey, Buffer.from(signature64, 'base64url'));
      if (!signed) return refuse(res, 'bad signature');
      const now = Date.now() / 1000;
      if (claims['iss'] !== clientEmail) return refuse(res, `iss ${String(claims['iss'])}`);
      if (claims['aud'] !== GOOGLE_TOKEN_URL) return refuse(res, `aud ${String(claims['aud'])}`);
      if (typeof claims['exp'] !== 'number' || claims['exp'] < now) return refuse(res, 'expired');
      if (typeof claims['scope'] !== 'string' || !claims['scope'].split(' ').includes('https://www.googleapis.com/auth/cloud-platform')) {
        return refuse(res, `scope ${String(claims['scope'])}`);
      }
      grants.push(claims);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    url,
    grants,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** google-auth-library's transport, with the hard-coded Google token URL pointed at the local endpoint. */
export function transportTo(tokenUrl: string): InstanceType<typeof gaxios.Gaxios> {
  const transporter = new gaxios.Gaxios();
  transporter.interceptors.request.add({
    resolved: (config) => {
      if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(tokenUrl);
      return Promise.resolve(config);
    },
  });
  return transporter;
}


export interface ServiceAccount {
  /** A service-account key file, for GOOGLE_APPLICATION_CREDENTIALS. */
  keyFile: string;
  clientEmail: string;
  /** The access token the local endpoint grants: what the Live server must see. */
  accessToken: string;
  tokens: TokenEndpoint;
  /** google-auth-library options that send its token request to the local endpoint. */
  googleAuthOptions: { clientOptions: { transporter: InstanceType<typeof gaxios.Gaxios> } };
  close(): Promise<void>;
}

/** A service account of `project`: its key file on disk and a token endpoint that grants it a fresh access token. */
export async function startServiceAccount(project: string): Promise<ServiceAccount> {
  const accessToken = `ya29.local-${randomBytes(12).toString('hex')}`;
  const clientEmail = `bridge@${project}.iam.gserviceaccount.com`;
  const keyId = randomBytes(20).toString('hex');
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tokens = await startTokenEndpoint(publicKey, keyId, clientEmail, accessToken);
  const dir = mkdtempSync(join(tmpdir(), 'vertex-adc-'));
  const keyFile = join(dir, 'service-account.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: project,
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokens.url, // ignored by google-auth-library 10.9: see the seam above
      universe_domain: 'googleapis.com',
    }),
    { mode: 0o600 },
  );
  return {
    keyFile,
    clientEmail,
    accessToken,
    tokens,
    googleAuthOptions: { clientOptions: { transporter: transportTo(tokens.url) } },
    close: async () => {
      await tokens.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
