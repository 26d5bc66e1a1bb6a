import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { isForeignKeyViolation } from '../db/faults.js';
import type { SessionRow } from '../db/tables.js';
import { conflict, invalidField, notFound, wrongCredentials } from '../http/errors.js';
import type { UserService } from '../users/service.js';
import { holePunch } from './holepunch.js';
import type { Net, Session, SessionPatch } from './schemas.js';
import type { SessionChanges, SessionFilter, SessionStore } from './store.js';

/** The rules about sessions: who may open one, and how updates land in the row. */
export class SessionService {
  constructor(
    private readonly store: SessionStore,
    private readonly users: UserService,
  ) {}

  /** Checks the credentials and opens the user's one session; 409 if one is live. */
  async login(userName: string, password: string, address: string): Promise<Session> {
    const userId = await this.users.authenticate(userName, password, address);
    const row = await this.store.create(userId, randomUUID()).catch((error: unknown) => {
      // The account was deleted after its password was checked: it is unknown now.
      throw isForeignKeyViolation(error) ? wrongCredentials() : error;
    });
    if (!row) throw conflict('session_exists', 'the user already has a live session');
    return toSession(row);
  }

  async get(ownerId: number): Promise<Session> {
    return toSession(orNotFound(await this.store.find(ownerId)));
  }

  async getBySessionId(sessionId: string): Promise<Session> {
    return toSession(orNotFound(await this.store.findBySessionId(sessionIdKey(sessionId))));
  }

  async list(offset: number, length: number, filter: SessionFilter): Promise<Session[]> {
    const rows = await this.store.list(offset, length, filter);
    return rows.map(toSession);
  }

  /**
   * Applies a partial session. Network records merge field by field in one
   * statement, so concurrent updates never lose each other's fields.
   */
  async update(ownerId: number, patch: SessionPatch): Promise<Session> {
    if (patch.userId !== undefined && patch.userId !== ownerId) {
      throw invalidField('body.userId', 'cannot change');
    }
    const changes = toChanges(patch);
    if (patch.sessionId !== undefined) {
      const current = orNotFound(await this.store.find(ownerId));
      if (current.sessionId !== sessionIdKey(patch.sessionId)) {
        throw invalidField('body.sessionId', 'cannot change');
      }
    }
    return toSession(orNotFound(await this.store.update(ownerId, changes)));
  }

  /** Moves the player to a channel server and channel. */
  async changeChannel(ownerId: number, channelServerIndex: number, channelIndex: number) {
    const changes = {
      currentChannelServerIndex: channelServerIndex,
      currentChannelIndex: channelIndex,
    };
    return toSession(orNotFound(await this.store.update(ownerId, changes)));
  }

  /** Records one hole-punched socket and answers its port index. */
  async holePunch(ownerId: number, portId: number, localPort: number, externalPort: number) {
    const punch = holePunch(portId, localPort, externalPort);
    orNotFound(await this.store.update(ownerId, punch.changes));
    return { portIndex: punch.portIndex };
  }

  /** Marks the session active without changing it. */
  async heartbeat(ownerId: number): Promise<Session> {
    return toSession(orNotFound(await this.store.update(ownerId, {})));
  }

  async remove(ownerId: number): Promise<Session> {
    return toSession(orNotFound(await this.store.remove(ownerId)));
  }

  async removeBySessionId(sessionId: string): Promise<Session> {
    return toSession(orNotFound(await this.store.removeBySessionId(sessionIdKey(sessionId))));
  }

  removeAll(): Promise<number> {
    return this.store.removeAll();
  }

  count(): Promise<number> {
    return this.store.count();
  }
}

/** Turns a session row into the answer shape. */
export function toSession(row: SessionRow): Session {
  return {
    sessionId: row.sessionId,
    userId: row.userId,
    externalNet: {
      ipAddress: row.externalIpAddress,
      clientPort: row.externalClientPort,
      serverPort: row.externalServerPort,
      tvPort: row.externalTvPort,
    },
    internalNet: {
      ipAddress: row.internalIpAddress,
      clientPort: row.internalClientPort,
      serverPort: row.internalServerPort,
      tvPort: row.internalTvPort,
    },
    currentChannelServerIndex: row.currentChannelServerIndex,
    currentChannelIndex: row.currentChannelIndex,
    currentRoomId: row.currentRoomId,
  };
}

/**
 * A uuid as the service stores it. Clients may write one in upper case
 * (RFC 9562 makes case irrelevant); PostgreSQL's uuid type ignores it, SQLite's
 * text comparison would not, so both engines get the lower-case form.
 */
function sessionIdKey(sessionId: string): string {
  return sessionId.toLowerCase();
}

function orNotFound(row: SessionRow | undefined): SessionRow {
  if (!row) throw notFound('session');
  return row;
}

/** Flattens a partial session into the columns it sets. */
function toChanges(patch: SessionPatch): SessionChanges {
  const changes: SessionChanges = {
    ...netChanges('external', patch.externalNet),
    ...netChanges('internal', patch.internalNet),
  };
  if (patch.currentChannelServerIndex !== undefined) {
    changes.currentChannelServerIndex = patch.currentChannelServerIndex;
  }
  if (patch.currentChannelIndex !== undefined) {
    changes.currentChannelIndex = patch.currentChannelIndex;
  }
  if (patch.currentRoomId !== undefined) changes.currentRoomId = patch.currentRoomId;
  return changes;
}

function netChanges(side: 'external' | 'internal', net: Partial<Net> | undefined): SessionChanges {
  if (!net) return {};
  const changes: SessionChanges = {};
  if (net.ipAddress !== undefined) {
    if (isIP(net.ipAddress) === 0) {
      throw invalidField(`body.${side}Net.ipAddress`, 'must be an IPv4 or IPv6 address');
    }
    changes[`${side}IpAddress`] = net.ipAddress;
  }
  if (net.clientPort !== undefined) changes[`${side}ClientPort`] = net.clientPort;
  if (net.serverPort !== undefined) changes[`${side}ServerPort`] = net.serverPort;
  if (net.tvPort !== undefined) changes[`${side}TvPort`] = net.tvPort;
  return changes;
}
