/** Bench child: raw TCP echo of length-prefixed frames, the floor every transport is compared with. */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createFrameReader } from '../raw-clients';
import { announceReady, exitWithParent } from './ready';

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  socket.on(
    'data',
    createFrameReader((frame) => {
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32BE(frame.length, 0);
      socket.write(Buffer.concat([header, frame]));
    }),
  );
});
server.listen(0, '127.0.0.1', () => {
  exitWithParent();
  announceReady((server.address() as AddressInfo).port, { transport: 'tcp' });
});
