/** Bench child: plain grpc-js bidi echo on one stream (no mesh), the streaming floor. */
import * as grpc from '@grpc/grpc-js';
import { rawBidiService } from '../raw-clients';
import { announceReady, exitWithParent } from './ready';

const server = new grpc.Server();
server.addService(rawBidiService, {
  pingpong: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on('data', (message: Buffer) => call.write(message));
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`grpc-bidi-raw failed to bind: ${error.message}\n`);
    process.exit(1);
  }
  exitWithParent();
  announceReady(port, { transport: 'grpc-bidi-raw' });
});
