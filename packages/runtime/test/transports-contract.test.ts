// Every transport passes the one contract (transport-contract.ts). The mesh
// joins with one more row.
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
  ['grpc', builtin('grpc'), { incrementalStreaming: true, errorDetails: true }],
  ['unary', builtin('unary'), whole],
  ['rest', builtin('rest'), whole],
  ['rest-nokeepalive', builtin('rest-nokeepalive'), whole],
];

describe.each(table)('%s', (name, make, capabilities) => runTransportContract(name, make, capabilities));
