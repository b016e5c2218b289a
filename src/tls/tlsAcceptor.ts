import { errorWithCode } from '../util/errorMessage.js';
import type { Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ServerClock } from '../clock.js';
import { peerIpOf } from '../observe/limits.js';
import { CertificateWatcher, type WatchedFile } from './certificateWatcher.js';
import { loadTlsMaterial, TlsMaterialError, type CertificateExpiry, type TlsMaterial } from './material.js';
import type { SecurityEvents, TlsRefusalReason } from './securityEvents.js';
import { hasCertificate, type TlsMode, type TlsPort, type TlsSettings } from './settings.js';

/** The first byte of a TLS connection: a handshake record (ContentType 22) carrying the ClientHello. */
export const TLS_HANDSHAKE_RECORD = 0x16;

/** A certificate that expires within this many days is logged as a warning at start and on reload. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

/** Where a connection goes once its first bytes said what it speaks. */
export interface TlsRoute {
  /** A plain connection, allowed by the mode; `firstChunk` is what it sent so far. */
  plain(firstChunk: Buffer): void;
  /** A TLS connection whose handshake and client certificate checks passed. */
  secure(socket: TLSSocket): void;
}

export interface TlsAcceptorOptions {
  settings: TlsSettings;
  /**
   * The settings again, for a reload: the remoting port re-reads
   * tls.config.file here, as Java does before it rebuilds its SSL context.
   * Throwing fails the reload. Default: the start-up settings.
   */
  reloadSettings?: () => TlsSettings;
  clock: ServerClock;
  logger: Logger;
  events: SecurityEvents;
  /** Wall-clock time for certificate validity (OpenSSL checks it against the system time, not a simulated clock). */
  now?: () => number;
}

interface Handshake {
  route: TlsRoute;
  raw: Socket;
  peer: string;
  timer: unknown;
}

/**
 * One port's TLS: tells TLS from plain by a connection's first byte (as
 * RocketMQ's TlsModeHandler does), applies the mode, runs the handshake with
 * a timeout on the server's clock, checks the client certificate, and swaps
 * in new certificates when their files change (new connections get them; open
 * ones keep theirs). Shared by the remoting and HTTP ports. Every refusal is
 * counted and logged once per peer through SecurityEvents.
 *
 * The handshakes run on a tls.Server that never listens: a connection is
 * handed to it once its first byte said TLS, so the port stays one TCP
 * listener whatever the mode. Client certificates are checked after the
 * handshake, not by OpenSSL during it, so each refusal has its own reason.
 */
export class TlsAcceptor {
  readonly port: TlsPort;
  readonly mode: TlsMode;
  private settings: TlsSettings;
  private material: TlsMaterial | undefined;
  private handshakes: TlsServer | undefined;
  private readonly pending = new Map<string, Handshake>();
  private watcher: CertificateWatcher | undefined;
  private readonly logger: Logger;
  private readonly events: SecurityEvents;
  private readonly clock: ServerClock;
  private readonly now: () => number;

  constructor(private readonly options: TlsAcceptorOptions) {
    this.settings = options.settings;
    this.port = options.settings.port;
    this.mode = options.settings.mode;
    this.logger = options.logger;
    this.events = options.events;
    this.clock = options.clock;
    this.now = options.now ?? Date.now;
  }

  /** Reads and checks the certificate files. Throws TlsMaterialError naming the key and the file. */
  load(): void {
    if (this.mode === 'disabled') return;
    const material = loadTlsMaterial(this.settings);
    this.install(material);
  }

  /** Says at start what the port will accept, logs the certificates' expiry, and starts watching their files. */
  start(): void {
    const { keys } = this.settings;
    const where = this.port === 'remoting' ? 'remoting port' : 'HTTP port';
    if (this.mode === 'disabled') {
      this.logger.info(
        { port: this.port, mode: this.mode },
        `${where}: plain only (${keys.mode}=disabled); TLS handshakes are closed`,
      );
      return;
    }
    if (this.material === undefined) {
      this.logger.info(
        { port: this.port, mode: this.mode },
        `${where}: ${keys.mode}=${this.mode} but ${keys.certPath} and ${keys.keyPath} are not set: TLS connections will be refused, plain ones served` +
          (this.port === 'remoting' ? ' (xnamesrv makes no test certificate; tls.test.mode.enable has no effect)' : ''),
      );
      return;
    }
    this.logger.info(
      {
        port: this.port,
        mode: this.mode,
        clientAuth: this.settings.clientAuth,
        verifyClient: this.settings.verifyClient,
      },
      `${where}: TLS ${this.mode === 'enforcing' ? 'only' : 'and plain'} (${keys.mode}=${this.mode}), client certificates ${this.settings.clientAuth}`,
    );
    this.logExpiries(this.material);
    const files: WatchedFile[] = [
      { key: keys.certPath, path: this.settings.certPath },
      { key: keys.keyPath, path: this.settings.keyPath },
      ...(this.settings.trustCertPath !== '' ? [{ key: keys.trustCertPath, path: this.settings.trustCertPath }] : []),
    ];
    this.watcher = new CertificateWatcher({
      clock: this.clock,
      files,
      onChange: (changed) => this.reload(changed),
      logger: this.logger,
    });
    this.watcher.start();
  }

  /** Stops watching the files and closes the connections still in their handshake. */
  stop(): void {
    this.watcher?.stop();
    this.abortHandshakes();
  }

  /** Closes the connections still in their handshake (a server that stops waits for no handshake). */
  abortHandshakes(): void {
    for (const handshake of this.pending.values()) {
      this.clock.clearTimeout(handshake.timer);
      handshake.raw.destroy();
    }
    this.pending.clear();
  }

  /** The configured certificates' expiry, as loaded last. */
  expiries(): readonly CertificateExpiry[] {
    return this.material?.expiries ?? [];
  }

  /**
   * Routes a connection by the first bytes it sent: plain ones to
   * `route.plain` when the mode allows them, TLS ones through the handshake
   * to `route.secure`. Everything else is closed, counted and logged.
   */
  route(raw: Socket, firstChunk: Buffer, route: TlsRoute): void {
    const peer = peerIpOf(raw.remoteAddress);
    if (firstChunk[0] !== TLS_HANDSHAKE_RECORD) {
      if (this.mode === 'enforcing') {
        this.refuse(raw, peer, 'plaintextRefused', `${this.settings.keys.mode}=enforcing accepts TLS only`);
        return;
      }
      this.events.tlsAccepted(this.port, 'plain');
      route.plain(firstChunk);
      return;
    }
    if (this.mode === 'disabled') {
      this.refuse(raw, peer, 'tlsDisabled', `${this.settings.keys.mode}=disabled`);
      return;
    }
    const handshakes = this.handshakes;
    if (handshakes === undefined) {
      this.refuse(
        raw,
        peer,
        'noCertificate',
        `no certificate configured (${this.settings.keys.certPath}, ${this.settings.keys.keyPath})`,
      );
      return;
    }
    const key = `${raw.remoteAddress}:${raw.remotePort}`;
    if (raw.remoteAddress === undefined || this.pending.has(key)) {
      raw.destroy();
      return;
    }
    // The caller's idle timer watches the raw socket, which sees no more
    // activity once TLS reads it: the handshake timer, then the TLS socket's
    // own idle timer, take over.
    raw.setTimeout(0);
    const timeoutMs = this.settings.handshakeTimeoutMs;
    const timer: unknown = this.clock.setTimeout(() => {
      if (this.pending.get(key)?.raw !== raw) return;
      this.pending.delete(key);
      this.refuse(raw, peer, 'handshakeTimeout', `TLS handshake not finished within ${timeoutMs / 1000} s`);
    }, timeoutMs);
    this.pending.set(key, { route, raw, peer, timer });
    // Each handshake ends once: secured, failed, timed out, or (counted here) closed before any of those.
    raw.once('close', () => {
      const handshake = this.pending.get(key);
      if (handshake?.raw !== raw) return;
      this.clock.clearTimeout(handshake.timer);
      this.pending.delete(key);
      this.refuse(raw, peer, 'handshakeFailed', 'the connection closed during the TLS handshake');
    });
    // Hand the bytes back so the TLS socket reads the ClientHello from the start.
    raw.pause();
    raw.unshift(firstChunk);
    handshakes.emit('connection', raw);
  }

  private install(material: TlsMaterial | undefined): void {
    this.material = material;
    if (material === undefined) {
      this.handshakes = undefined;
      return;
    }
    const { clientAuth } = this.settings;
    // A new server for new settings: handshakes already under way finish on the old one.
    const handshakes = new TlsServer({
      ...material.contextOptions,
      requestCert: clientAuth !== 'none',
      rejectUnauthorized: false,
      // The handshake timer runs on the server's clock (route()).
      handshakeTimeout: 0,
    });
    handshakes.on('secureConnection', (socket: TLSSocket) => this.secured(socket));
    handshakes.on('tlsClientError', (err: Error, socket: TLSSocket) => this.handshakeFailed(err, socket));
    this.handshakes = handshakes;
  }

  private take(socket: TLSSocket): Handshake | undefined {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const handshake = this.pending.get(key);
    if (handshake === undefined) return undefined;
    this.pending.delete(key);
    this.clock.clearTimeout(handshake.timer);
    return handshake;
  }

  private secured(socket: TLSSocket): void {
    const handshake = this.take(socket);
    if (handshake === undefined || handshake.raw.destroyed) {
      socket.destroy();
      return;
    }
    const refusal = this.checkClientCertificate(socket);
    if (refusal !== undefined) {
      this.refuse(socket, handshake.peer, refusal.reason, refusal.message, refusal.detail);
      return;
    }
    this.events.tlsAccepted(this.port, 'tls');
    handshake.route.secure(socket);
  }

  /** A handshake no longer pending was already counted (timed out, or closed first). */
  private handshakeFailed(err: Error, socket: TLSSocket): void {
    const handshake = this.take(socket);
    if (handshake === undefined) {
      socket.destroy();
      return;
    }
    this.refuse(socket, handshake.peer, 'handshakeFailed', `TLS handshake failed: ${errorWithCode(err)}`);
    handshake.raw.destroy();
  }

  private checkClientCertificate(
    socket: TLSSocket,
  ): { reason: TlsRefusalReason; message: string; detail?: Record<string, unknown> } | undefined {
    const { clientAuth, verifyClient, keys } = this.settings;
    if (clientAuth === 'none') return undefined;
    const certificate = socket.getPeerCertificate();
    const presented = certificate !== null && Object.keys(certificate).length > 0;
    if (!presented) {
      if (clientAuth === 'optional') return undefined;
      return { reason: 'clientCertificateMissing', message: `no client certificate, and ${keys.clientAuth}=require` };
    }
    if (!verifyClient || socket.authorized) return undefined;
    const subject = certificate.subject
      ? Object.entries(certificate.subject)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ')
      : '';
    const error = String(socket.authorizationError ?? 'not verified');
    return {
      reason: 'clientCertificateUntrusted',
      message: `client certificate ${subject ? `"${subject}" ` : ''}not trusted by ${keys.trustCertPath}: ${error}`,
      detail: { clientSubject: subject, verifyError: error },
    };
  }

  private refuse(
    socket: Socket,
    peer: string,
    reason: TlsRefusalReason,
    why: string,
    detail?: Record<string, unknown>,
  ): void {
    const where = this.port === 'remoting' ? 'the remoting port' : 'the HTTP port';
    this.events.tlsRefused(this.port, {
      reason,
      peer,
      message: `closed a connection from ${peer} to ${where}: ${why}`,
      ...(detail ? { detail } : {}),
    });
    socket.destroy();
  }

  /**
   * A watched file changed. Java rebuilds its context once the certificate
   * and the key have both changed (or the trusted CAs did). Here any change
   * is tried at once: a certificate renewed with the same key reloads too,
   * and a certificate whose key has not been replaced yet fails the pair
   * check and waits for the key, which is Java's rule. A failed reload keeps
   * the certificate in use.
   */
  private reload(changed: readonly WatchedFile[]): void {
    const files = changed.map((file) => `${file.key}=${file.path}`).join(', ');
    let settings: TlsSettings;
    try {
      settings = { ...(this.options.reloadSettings?.() ?? this.settings), mode: this.mode };
    } catch (err) {
      this.reloadFailed(files, errorWithCode(err));
      return;
    }
    let material: TlsMaterial | undefined;
    try {
      material = loadTlsMaterial(settings);
    } catch (err) {
      if (err instanceof TlsMaterialError && err.mismatch) {
        this.logger.warn(
          { port: this.port, changed: files, reason: err.message },
          `TLS files changed (${files}) but the certificate and key do not match yet: keeping the current certificate until both are replaced`,
        );
        return;
      }
      this.reloadFailed(files, errorWithCode(err));
      return;
    }
    if (material === undefined || !hasCertificate(settings)) {
      this.reloadFailed(files, `${settings.keys.certPath} or ${settings.keys.keyPath} is no longer set`);
      return;
    }
    this.settings = settings;
    this.install(material);
    this.events.reload(this.port, 'success');
    this.logger.info(
      { port: this.port, changed: files },
      `TLS certificate reloaded after ${files} changed: new connections use it, open ones keep theirs`,
    );
    this.logExpiries(material);
  }

  private reloadFailed(files: string, reason: string): void {
    this.events.reload(this.port, 'failure');
    this.logger.error(
      { port: this.port, changed: files, reason },
      `TLS reload after ${files} changed failed, the current certificate stays in use: ${reason}`,
    );
  }

  private logExpiries(material: TlsMaterial): void {
    const now = this.now();
    for (const expiry of material.expiries) {
      const days = Math.floor((expiry.notAfter - now) / DAY_MS);
      const when = new Date(expiry.notAfter).toISOString();
      const fields = {
        port: this.port,
        key: expiry.key,
        file: expiry.file,
        notAfter: when,
        subject: expiry.subject,
        days,
      };
      if (expiry.notAfter <= now) {
        this.logger.warn(
          fields,
          `${expiry.key} ${expiry.file} (${expiry.subject}) expired on ${when}: clients that check it will refuse the connection`,
        );
      } else if (days < EXPIRY_WARNING_DAYS) {
        this.logger.warn(
          fields,
          `${expiry.key} ${expiry.file} (${expiry.subject}) expires on ${when}, in ${days} days`,
        );
      } else {
        this.logger.info(
          fields,
          `${expiry.key} ${expiry.file} (${expiry.subject}) expires on ${when}, in ${days} days`,
        );
      }
    }
  }
}
