import { invalidField } from '../http/errors.js';
import type { SessionChanges } from './store.js';

/**
 * The game client's three UDP sockets, by the `portId` it reports for each:
 * 0 the client socket, 256 the game server socket, 512 the SourceTV socket.
 * The answer's `portIndex` is the socket's position in that list.
 */
const SOCKETS = [
  { portId: 0, internal: 'internalClientPort', external: 'externalClientPort' },
  { portId: 256, internal: 'internalServerPort', external: 'externalServerPort' },
  { portId: 512, internal: 'internalTvPort', external: 'externalTvPort' },
] as const;

/** What a hole punch writes, and the port index to answer. */
export interface HolePunch {
  portIndex: number;
  changes: SessionChanges;
}

/**
 * Maps one hole-punch report to the two session columns it sets: the locally
 * bound port goes to the internal address, the port seen from outside to the
 * external one.
 */
export function holePunch(portId: number, localPort: number, externalPort: number): HolePunch {
  const portIndex = SOCKETS.findIndex((socket) => socket.portId === portId);
  const socket = SOCKETS[portIndex];
  if (!socket) {
    const accepted = SOCKETS.map((s) => s.portId).join(', ');
    throw invalidField('body.portId', `must be one of ${accepted}`);
  }
  return {
    portIndex,
    changes: { [socket.internal]: localPort, [socket.external]: externalPort },
  };
}
