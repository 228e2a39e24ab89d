// Every transport, the mesh included, passes the one contract (transport-contract.ts).
import { createTransport, createTransportServer } from '../src/transports';
import { runTransportContract, type ContractCapabilities, type MakeServerAndTransport } from './transport-contract';

function builtin(name: string): MakeServerAndTransport {
  return async (register) => {
    const server = createTransportServer(name);
    register(server);
    const port = await server.listen('127.0.0.1:0');
    const transport = createTransport(name, `127.0.0.1:${port}`);
    return {
      transport,
      close: async () => {
        await transport.close();
        await server.close();
      },
    };
  };
}

const whole: ContractCapabilities = { incrementalStreaming: false, errorDetails: true };
const table: [string, MakeServerAndTransport, ContractCapabilities][] = [
  ['mesh', builtin('mesh'), { incrementalStreaming: true, errorDetails: true }],
  ['grpc', builtin('grpc'), { incrementalStreaming: true, errorDetails: true }],
  ['unary', builtin('unary'), whole],
  ['rest', builtin('rest'), whole],
  ['rest-nokeepalive', builtin('rest-nokeepalive'), whole],
];

describe.each(table)('%s', (name, make, capabilities) => runTransportContract(name, make, capabilities));
