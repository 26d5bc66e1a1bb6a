/**
 * The ceiling: a bare node:http server that reads the request body and
 * answers a session-sized JSON, built per request as the service builds its
 * answers. No routing, no validation, no database.
 */
import { createServer } from 'node:http';

const session = {
  sessionId: '6f1c2a9e-3b7d-4e8a-9c1f-2d3e4f5a6b7c',
  userId: 123_456,
  externalNet: { ipAddress: '203.0.113.17', clientPort: 27_015, serverPort: 27_016, tvPort: 0 },
  internalNet: { ipAddress: '192.168.1.20', clientPort: 27_005, serverPort: 27_006, tvPort: 0 },
  currentChannelServerIndex: 1,
  currentChannelIndex: 3,
  currentRoomId: 0,
};

const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const body = JSON.stringify(session);
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
});

server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
