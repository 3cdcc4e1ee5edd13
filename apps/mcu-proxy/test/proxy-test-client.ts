/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { TestClient, DEFAULT_CLIENT_TIMEOUT_MS } from '@talk-signaling/testing';

/** An RSA key pair of a signaling server ("token id" = issuer), with its public key on disk. */
export interface TokenIdentity {
  id: string;
  privateKey: KeyObject;
  /** PEM file of the private key (for `[app] token_key` of a proxy). */
  privateKeyFile: string;
  /** PEM file of the public key (for `[tokens] <id> = <file>`). */
  publicKeyFile: string;
}

/** Makes a key pair and writes both PEMs to a temp folder. */
export function makeTokenIdentity(id: string): TokenIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(path.join(tmpdir(), 'proxy-token-'));
  const privateKeyFile = path.join(dir, `${id}.key`);
  const publicKeyFile = path.join(dir, `${id}.pub`);
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { id, privateKey, privateKeyFile, publicKeyFile };
}

/** A proxy token as the signaling server makes it: `{iat, iss, sub}` signed RS256 (or `alg`). */
export function proxyToken(
  identity: Pick<TokenIdentity, 'id' | 'privateKey'>,
  opts: { alg?: 'RS256' | 'RS384' | 'RS512'; iat?: number; sub?: string; iss?: string } = {},
): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: opts.alg ?? 'RS256' }).setIssuer(opts.iss ?? identity.id).setSubject(opts.sub ?? '');
  jwt.setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000));
  return jwt.sign(identity.privateKey);
}

/**
 * Protocol-level client of the `/proxy` WebSocket (what a signaling server sends): requests
 * carry ids and their replies (`command`/`payload`/`hello` or `error`) are taken by id; events
 * stay queued in order for `next()` / `waitForMessage()`.
 */
export class ProxyTestClient {
  readonly raw: TestClient;
  #nextId = 1;

  private constructor(raw: TestClient) {
    this.raw = raw;
  }

  static async connect(url: string): Promise<ProxyTestClient> {
    return new ProxyTestClient(await TestClient.connect(url));
  }

  send(message: object): void {
    this.raw.send(message);
  }

  /**
   * Sends `{id, ...message}` and returns the reply with that id (any type, errors included).
   * One request at a time: waiting drops non-matching messages (use `send` + `next` to flood).
   */
  async request(message: Record<string, unknown>, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): Promise<any> {
    const id = String(this.#nextId++);
    this.raw.send({ id, ...message });
    return this.raw.waitForMessage((m) => m.id === id, timeoutMs);
  }

  hello(token: string, features?: string[]): Promise<any> {
    return this.request({ type: 'hello', hello: { version: '1.0', token, ...(features ? { features } : {}) } });
  }

  resume(resumeid: string): Promise<any> {
    return this.request({ type: 'hello', hello: { version: '1.0', resumeid } });
  }

  command(command: Record<string, unknown>, timeoutMs?: number): Promise<any> {
    return this.request({ type: 'command', command }, timeoutMs);
  }

  payload(payload: Record<string, unknown>, timeoutMs?: number): Promise<any> {
    return this.request({ type: 'payload', payload }, timeoutMs);
  }

  /** Next event of `type` (other messages before it are dropped). */
  event(type: string, timeoutMs?: number): Promise<any> {
    return this.raw.waitForMessage((m) => m.type === 'event' && m.event?.type === type, timeoutMs);
  }

  next(type?: string, timeoutMs?: number): Promise<any> {
    return this.raw.next(type, timeoutMs);
  }

  close(): void {
    this.raw.close();
  }
}
