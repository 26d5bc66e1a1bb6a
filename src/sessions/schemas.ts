import { type Static, Type } from '@sinclair/typebox';
import { CountText, IdText } from '../http/schemas.js';
import { IP_ADDRESS_MAX_LENGTH, MAX_ID, MAX_LOBBY_INDEX, MAX_PORT } from '../limits.js';

const Port = Type.Integer({ minimum: 0, maximum: MAX_PORT });
const LobbyIndex = Type.Integer({ minimum: 0, maximum: MAX_LOBBY_INDEX });
const UserId = Type.Integer({ minimum: 1, maximum: MAX_ID });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });

/** Where a game client can be reached, on one side of its NAT. */
export const Net = Type.Object({
  ipAddress: Type.String(),
  clientPort: Port,
  serverPort: Port,
  tvPort: Port,
});
export type Net = Static<typeof Net>;

/** A session as every route answers it. */
export const Session = Type.Object(
  {
    sessionId: Type.String({ format: 'uuid' }),
    userId: UserId,
    externalNet: Net,
    internalNet: Net,
    currentChannelServerIndex: LobbyIndex,
    currentChannelIndex: LobbyIndex,
    currentRoomId: LobbyIndex,
  },
  { $id: 'Session' },
);
export type Session = Static<typeof Session>;

/** Part of a Net; the fields sent are merged into the stored ones. */
const NetPatch = Type.Partial(
  Type.Object({
    ipAddress: Type.String({ maxLength: IP_ADDRESS_MAX_LENGTH }),
    clientPort: Port,
    serverPort: Port,
    tvPort: Port,
  }),
  { additionalProperties: false },
);

const sessionPatch = {
  sessionId: Uuid,
  userId: UserId,
  externalNet: NetPatch,
  internalNet: NetPatch,
  currentChannelServerIndex: LobbyIndex,
  currentChannelIndex: LobbyIndex,
  currentRoomId: LobbyIndex,
};

/** A partial session; `sessionId` and `userId` are echoes that must hold their current values. */
export const SessionPatch = Type.Partial(Type.Object(sessionPatch), {
  additionalProperties: false,
});
export type SessionPatch = Static<typeof SessionPatch>;

/** The 2019 update: the owner in the body beside the partial session. */
export const LegacySessionPatch = Type.Composite(
  [Type.Object({ userId: UserId }), Type.Partial(Type.Object(sessionPatch))],
  { additionalProperties: false },
);

/** The 2019 read and delete: only the owner, in a body. */
export const LegacyOwnerBody = Type.Object({ userId: UserId }, { additionalProperties: false });

export const ChannelBody = Type.Object(
  { channelServerIndex: LobbyIndex, channelIndex: LobbyIndex },
  { additionalProperties: false },
);

export const HolePunchBody = Type.Object(
  {
    portId: Type.Integer({ minimum: 0, maximum: MAX_PORT }),
    localPort: Port,
    externalPort: Port,
  },
  { additionalProperties: false },
);
export const HolePunchAnswer = Type.Object({ portIndex: Type.Integer() });

export const OwnerParams = Type.Object({ ownerId: IdText });
export const SessionIdParams = Type.Object({ sessionId: Uuid });

export const SessionQuery = Type.Object({
  offset: Type.Optional(CountText),
  length: Type.Optional(CountText),
  channelServerIndex: Type.Optional(CountText),
  channelIndex: Type.Optional(CountText),
  roomId: Type.Optional(CountText),
});
